from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from apps.accounts.models import User
from apps.core import permissions

from .models import Organization, WorkCalendar


def organization_list(*, user, region=None, kind: str = "", q: str = ""):
    # A correlated subquery (not JOIN + GROUP BY) keeps the paginator's COUNT cheap at 10,000+ rows.
    active_users = (
        User.objects.filter(organization=OuterRef("pk"), is_active=True)
        .order_by()
        .values("organization")
        .annotate(n=Count("pk"))
        .values("n")
    )
    orgs = (
        Organization.objects.restrict(user, "org.view")
        .select_related("region", "parent")
        .annotate(user_count=Coalesce(Subquery(active_users), 0))
        .order_by("region__sort_order", "path")
    )
    if region:
        orgs = orgs.filter(region=region)
    if kind:
        orgs = orgs.filter(kind=kind)
    if q:
        orgs = orgs.filter(Q(name__icontains=q) | Q(code__icontains=q) | Q(short_name__icontains=q))
    return orgs


def calendar_list(*, user, fiscal_year: int | None, region=None):
    entries = WorkCalendar.objects.restrict(user, "calendar.view").select_related("organization__region")
    if fiscal_year is not None:
        entries = entries.filter(fiscal_year_id=fiscal_year)
    if region:
        entries = entries.filter(organization__region=region)
    return entries.order_by("organization__region__sort_order", "due_on")


def managed_finance_bureau(user) -> Organization | None:
    """The finance bureau whose calendar this user may edit (its own region's), if any."""
    org = user.organization
    if org is None:
        return None
    bureau = org if org.kind == Organization.Kind.FINANCE else org.parent
    if bureau is None or bureau.kind != Organization.Kind.FINANCE:
        return None
    return bureau if permissions.can(user, "calendar.manage", bureau) else None
