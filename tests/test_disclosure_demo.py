"""The disclosure demo: targets, self-evaluations and a key-evaluation report published, one withdrawn,
one 涉密 fund never public; a second run changes nothing."""

from django.core.management import call_command

from apps.results.demo_disclosure import WITHDRAW_REASON, seed_disclosures
from apps.results.models import Disclosure


def test_demo_disclosures(db, client):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115  (seed_demo publishes them)
    created = Disclosure.objects.count()
    assert created > 0 and seed_disclosures() == 0
    kinds = set(Disclosure.objects.values_list("kind", flat=True))
    assert kinds == {"target", "self_evaluation", "key_evaluation"}
    withdrawn = Disclosure.objects.get(status="withdrawn")
    assert withdrawn.withdraw_reason == WITHDRAW_REASON
    key = Disclosure.objects.get(kind="key_evaluation")
    assert key.report is not None and key.grade
    assert not Disclosure.objects.filter(fund__is_classified=True).exists()  # skipped, never published
    public = Disclosure.objects.public()
    assert public.count() == created - 1
    html = client.get("/public/?kind=key_evaluation").content.decode()
    assert key.title in html
    assert client.get(f"/public/disclosures/{key.pk}/report/").status_code == 200
    assert client.get(f"/public/disclosures/{withdrawn.pk}/").status_code == 404
