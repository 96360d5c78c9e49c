"""Reads of 整改 shared by the pages, the API, the export, the panel and the 待办 list.

Everything starts from ``Rectification.objects.restrict(user, "rectification.view")`` and runs a
fixed number of queries whatever the number of rows."""

from __future__ import annotations

from datetime import date

from django.db.models import Case, CharField, Count, F, IntegerField, Q, QuerySet, When
from django.utils import timezone

from apps.orgs.models import Organization

from .models import Rectification

S = Rectification.Status
OVERDUE = "overdue"
STATUS_FILTER_CHOICES = [("", "全部状态"), *S.choices, (OVERDUE, "逾期")]
# The department of the responsible organisation: its parent for a unit, itself for a department.
DEPARTMENT_ID = Case(
    When(organization__kind=Organization.Kind.UNIT, then=F("organization__parent_id")),
    default=F("organization_id"),
    output_field=IntegerField(),
)
DEPARTMENT_NAME = Case(
    When(organization__kind=Organization.Kind.UNIT, then=F("organization__parent__name")),
    default=F("organization__name"),
    output_field=CharField(),
)


def visible(user, action: str = "rectification.view") -> QuerySet:
    return Rectification.objects.restrict(user, action)


def overdue_q(today: date | None = None) -> Q:
    """逾期, as ``Rectification.objects.overdue()``: not done and past the deadline."""
    return ~Q(status=S.DONE) & Q(deadline__lt=today or timezone.localdate())


def rectification_list(
    *,
    user,
    fiscal_year: int | None = None,
    status: str = "",
    department: Organization | None = None,
    source: str = "",
    q: str = "",
    organization: Organization | None = None,
    today: date | None = None,
) -> QuerySet:
    """The items the user may read, filtered; with what a row shows (one query)."""
    rows = visible(user)
    if fiscal_year:
        rows = rows.filter(fiscal_year_id=fiscal_year)
    if status == OVERDUE:
        rows = rows.filter(overdue_q(today))
    elif status:
        rows = rows.filter(status=status)
    if department is not None:
        rows = rows.filter(Q(organization=department) | Q(organization__parent=department))
    if organization is not None:
        rows = rows.filter(organization=organization)
    if source:
        rows = rows.filter(source=source)
    q = (q or "").strip()
    if q:
        rows = rows.filter(Q(fund__name__icontains=q) | Q(fund__code__icontains=q) | Q(problem__icontains=q))
    return rows.select_related("organization__parent", "fund", "verified_by").order_by("deadline", "id")


def status_counts(rows: QuerySet, today: date | None = None) -> dict[str, int]:
    """Counts per status and 逾期 over ``rows`` (one aggregate query)."""
    counts = rows.order_by().aggregate(
        total=Count("id"),
        **{code: Count("id", filter=Q(status=code)) for code in S.values},
        overdue=Count("id", filter=overdue_q(today)),
    )
    return {k: v or 0 for k, v in counts.items()}


def overdue_by_department(rows: QuerySet, today: date | None = None) -> list[dict]:
    """逾期 items per department (the responsible unit's department), most first (one query)."""
    return list(
        rows.filter(overdue_q(today))
        .order_by()
        .annotate(department_id=DEPARTMENT_ID, department_name=DEPARTMENT_NAME)
        .values("department_id", "department_name")
        .annotate(
            overdue=Count("id"),
            not_started=Count("id", filter=Q(status=S.PENDING)),
            reopened=Count("id", filter=Q(reopen_count__gt=0)),
        )
        .order_by("-overdue", "department_name")
    )


def rectification_detail(user, pk) -> Rectification:
    """One item the user may read, with its source records (404 outside scope: use get_object_or_404)."""
    return visible(user).select_related(
        "organization__parent",
        "fund__department",
        "fiscal_year",
        "self_evaluation__round",
        "key_evaluation__plan",
        "key_evaluation__fund",
        "key_evaluation__department",
        "key_monitoring__fund",
        "created_by",
        "verified_by",
    )


def for_record(user, record) -> QuerySet:
    """The items raised from ``record`` (a SelfEvaluation, KeyEvaluation or SpecialFund) that the
    user may read."""
    from apps.evaluations.models import KeyEvaluation, SelfEvaluation
    from apps.funds.models import SpecialFund

    rows = visible(user)
    if isinstance(record, SelfEvaluation):
        rows = rows.filter(self_evaluation=record)
    elif isinstance(record, KeyEvaluation):
        rows = rows.filter(key_evaluation=record)
    elif isinstance(record, SpecialFund):
        rows = rows.filter(fund=record)
    else:
        return rows.none()
    return rows.select_related("organization").order_by("deadline", "id")
