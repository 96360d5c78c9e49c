"""Reads of 信息公开 shared by the public pages, the public JSON, the internal pages and the API.

Public reads start from ``Disclosure.objects.public()`` (published and not from a 涉密 fund) and
never from anything else; internal reads from ``restrict(user, action)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q

from apps.orgs.models import FiscalYear, Organization, Region

from . import services_disclosure as services
from .models import Disclosure

LIST_FIELDS = (
    "id",
    "kind",
    "title",
    "amount",
    "score",
    "grade",
    "published_at",
    "fiscal_year_id",
    "status",
    "report_id",
    "fund_id",
    "region__id",
    "region__name",
    "region__code",
    "department__id",
    "department__name",
)


MAX_MATCHED_DEPARTMENTS = 200


@dataclass
class PublicFilters:
    q: str = ""
    year: int | None = None
    region: Region | None = None
    department: int | None = None
    kind: str = ""
    grade: str = ""


def filter_disclosures(queryset, f: PublicFilters):
    if f.q:
        # Departments matched first, as a short list of ids: the title's trigram index and the
        # department index then combine (a subquery here would make PostgreSQL read every row).
        departments = list(
            Organization.objects.filter(name__icontains=f.q, kind=Organization.Kind.DEPARTMENT).values_list(
                "pk", flat=True
            )[:MAX_MATCHED_DEPARTMENTS]
        )
        queryset = queryset.filter(Q(title__icontains=f.q) | Q(department_id__in=departments))
    if f.year:
        queryset = queryset.filter(fiscal_year_id=f.year)
    if f.region is not None:
        queryset = queryset.filter(region_id=f.region.pk)
    if f.department:
        queryset = queryset.filter(department_id=f.department)
    if f.kind:
        queryset = queryset.filter(kind=f.kind)
    if f.grade:
        queryset = queryset.filter(grade=f.grade)
    return queryset


def public_list(f: PublicFilters):
    """What anyone may read, newest first, without the snapshot (the list does not need it)."""
    return filter_disclosures(Disclosure.objects.public(), f).select_related("region", "department").only(*LIST_FIELDS)


def public_detail(pk) -> Disclosure | None:
    if not str(pk).isdecimal():
        return None
    return Disclosure.objects.public().select_related("region", "department", "report").filter(pk=pk).first()


def public_report(pk) -> Disclosure | None:
    """The public disclosure ``pk`` with a report file (None otherwise: the download 404s)."""
    disclosure = public_detail(pk)
    return disclosure if disclosure is not None and disclosure.report_id else None


def public_regions() -> list[Region]:
    return list(Region.objects.order_by("sort_order", "code"))


def public_years() -> list[int]:
    return list(FiscalYear.objects.order_by("-year").values_list("year", flat=True))


def region_departments(region: Region | None) -> list[tuple[int, str]]:
    """Departments of one region for the filter (the whole city has too many for one list)."""
    if region is None:
        return []
    return list(
        Organization.objects.filter(region=region, kind=Organization.Kind.DEPARTMENT)
        .order_by("code")
        .values_list("pk", "name")
    )


# --- internal ----------------------------------------------------------------------------------


def disclosure_list(user, *, status: str = "", f: PublicFilters | None = None):
    queryset = Disclosure.objects.restrict(user, "disclosure.view")
    if status:
        queryset = queryset.filter(status=status)
    if f is not None:
        queryset = filter_disclosures(queryset, f)
    return queryset.select_related("region", "department", "published_by", "withdrawn_by").defer("content")


def disclosure_detail(user, pk):
    return (
        Disclosure.objects.restrict(user, "disclosure.view")
        .select_related("region", "department", "published_by", "withdrawn_by", "report", "fund")
        .filter(pk=pk)
        .first()
    )


def pending(user, kind: str, *, fiscal_year: int | None = None, department=None):
    """Records of ``kind`` the user may publish now: in the required state, not published, not 涉密."""
    fk = services.RECORDS[kind][1]
    published = Disclosure.objects.filter(status=Disclosure.Status.PUBLISHED, **{fk: OuterRef("pk")})
    queryset = services.eligible_records(user, kind, fiscal_year=fiscal_year, department=department)
    return (
        queryset.annotate(is_published=Exists(published))
        .filter(is_published=False)
        .exclude(fund__is_classified=True)
        .prefetch_related(None)
        .order_by("pk")
    )


def pending_classified_count(user, kind: str, *, fiscal_year: int | None = None, department=None) -> int:
    queryset = services.eligible_records(user, kind, fiscal_year=fiscal_year, department=department)
    return queryset.filter(fund__is_classified=True).count()


def disclosures_of(user, record) -> list[Disclosure]:
    """Every disclosure of ``record`` (a target, self-evaluation, key evaluation or fund) the user
    may see, newest first: one query."""
    from apps.funds.models import SpecialFund

    if isinstance(record, SpecialFund):
        condition = {"fund": record}
    else:
        condition = {services.RECORDS[services.kind_of(record)][1]: record}
    return list(
        Disclosure.objects.restrict(user, "disclosure.view")
        .filter(**condition)
        .select_related("withdrawn_by", "published_by")
        .defer("content")
        .order_by("-published_at", "-id")
    )
