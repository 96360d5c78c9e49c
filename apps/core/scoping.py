"""The queryset every business model uses, so that reads start from the user's scope."""

from django.db import models

from . import permissions


class ScopedQuerySet(models.QuerySet):
    def restrict(self, user, action: str) -> "ScopedQuerySet":
        """Rows the user may ``action`` (e.g. ``"org.view"``); see ``apps.core.permissions``."""
        return permissions.restrict(self, user, action)
