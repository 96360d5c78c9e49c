"""A minimal business record used only by the tests of the shared scoping and workflow code."""

from django.db import models

from apps.core.scoping import ScopedQuerySet


class Dossier(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        SUBMITTED = "submitted", "已报送"
        RETURNED = "returned", "已退回"
        APPROVED = "approved", "已批复"

    organization = models.ForeignKey("orgs.Organization", on_delete=models.PROTECT)
    title = models.CharField(max_length=100)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    amount = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    objects = ScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return self.title
