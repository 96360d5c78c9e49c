"""The queryset every business model uses, so that reads start from the user's scope."""

from django.db import models

from . import permissions


class ScopedQuerySet(models.QuerySet):
    def restrict(self, user, action: str) -> "ScopedQuerySet":
        """Rows the user may ``action`` (e.g. ``"org.view"``); see ``apps.core.permissions``."""
        return permissions.restrict(self, user, action)


class RegionFromOrganizationMixin(models.Model):
    """For models whose ``region`` copies their owning ``organization``'s (kept for set-based scoping).

    The region is filled on the first save; an explicit region is left as it is."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.organization_id and not self.region_id:
            self.region_id = self.organization.region_id
        super().save(*args, **kwargs)
