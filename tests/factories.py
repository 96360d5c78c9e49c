import factory
from django.contrib.auth.models import Group

from apps.accounts.models import User
from apps.orgs.models import Organization, Region

TEST_PASSWORD = "Qd-Test-2026!"


def region(code: str) -> Region:
    return Region.objects.get(code=code)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"F{n:05d}")
    name = factory.Sequence(lambda n: f"测试机构{n}")
    kind = Organization.Kind.DEPARTMENT
    region = factory.LazyFunction(lambda: region("370200"))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    real_name = factory.Sequence(lambda n: f"测试用户{n}")
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.set([Group.objects.get(name=code) for code in extracted])
