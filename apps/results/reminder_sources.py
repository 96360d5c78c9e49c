"""Open work with a due date, for the reminder sweep (``apps.reminders.sources``).

* 整改: an item to fill (待整改/整改中) waits on its responsible unit until its own deadline, and
  escalates like the unit's other work. A reopened item carries its new deadline: the due date is
  part of the reminder's key, so it is reminded again. An item awaiting verification (待核实) is not
  reminded: finance verifies it without a deadline.
* 信息公开: records finance may publish and has not (the 待公开 queue: approved targets, confirmed
  self-evaluations, completed key evaluations; none of a 涉密 fund), due on the region's
  work-calendar date for disclosure of the record's year. A region holds hundreds of them and they
  all wait on the same people, so the work is ONE item per region and due date, counted per year and
  kind, on the region's finance bureau (a stable object: the reminder's key holds), linking to the
  queue — not one line per record in finance's digest.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.db.models import Count, Exists, OuterRef
from django.db.models.functions import Substr
from django.urls import reverse

from apps.core.permissions import scope_path_of
from apps.orgs.models import Organization, WorkCalendar, WorkStep
from apps.reminders.sources import OpenWork, Party, register

from .models import Disclosure, Rectification
from .services_disclosure import PUBLISH, RECORDS

RS = Rectification.Status

# --- 整改 ------------------------------------------------------------------------------------------


def _rectification_title(row: dict) -> str:
    verb = "重新整改" if row["reopen_count"] else "填报整改"
    subject = f"{row['fund__code']} {row['fund__name']}" if row["fund__code"] else row["organization__name"]
    return f"{verb}：{subject} — {row['problem_start']}"


@register("rectification")
def rectification_work(today: date, horizon: int, region_id: int | None = None) -> list[OpenWork]:
    rows = Rectification.objects.filter(
        status__in=(RS.PENDING, RS.IN_PROGRESS), deadline__lte=today + timedelta(days=horizon)
    )
    if region_id is not None:
        rows = rows.filter(region_id=region_id)
    rows = rows.annotate(problem_start=Substr("problem", 1, 30)).order_by("pk")
    return [
        OpenWork(
            model=Rectification,
            object_id=row["pk"],
            step="rectification",
            action="rectification.fill",
            owner_id=row["organization_id"],  # the responsible unit (Rectification's scope path)
            due_on=row["deadline"],
            title=_rectification_title(row),
            url=reverse("results:rectification_detail", args=[row["pk"]]),
            party=Party.UNIT,
            classified=bool(row["fund__is_classified"]),  # a 涉密 fund: e-mail leaves the title out
        )
        for row in rows.values(
            "pk",
            "organization_id",
            "organization__name",
            "fund__code",
            "fund__name",
            "fund__is_classified",
            "problem_start",
            "deadline",
            "reopen_count",
        )  # fmt: skip
    ]


# --- 信息公开 --------------------------------------------------------------------------------------

# kind → the path from the record to its fiscal year (the region comes from the record's owner,
# whose region finance's ``disclosure.publish`` scope is relative to).
YEAR_PATHS = {
    Disclosure.Kind.TARGET: "fiscal_year_id",
    Disclosure.Kind.SELF_EVALUATION: "round__fiscal_year_id",
    Disclosure.Kind.KEY_EVALUATION: "plan__fiscal_year_id",
}
KIND_LABELS = dict(Disclosure.Kind.choices)


def _disclosure_calendar(limit: date, region_id: int | None = None):
    entries = WorkCalendar.objects.filter(
        step=WorkStep.DISCLOSURE, organization__kind=Organization.Kind.FINANCE, due_on__lte=limit
    )
    if region_id is not None:
        entries = entries.filter(organization__region_id=region_id)
    return entries


def _unpublished_counts(kind: str, limit: date, region_id: int | None) -> list[tuple[int, int, int]]:
    """(region, year, how many) of ``kind`` waiting to be published, where the region's disclosure
    date of that year is within ``limit``: one grouped query."""
    model, fk, state, _label = RECORDS[kind]
    region_path, year_path = f"{scope_path_of(model)}__region_id", YEAR_PATHS[kind]
    published = Disclosure.objects.filter(status=Disclosure.Status.PUBLISHED, **{fk: OuterRef("pk")})
    due = _disclosure_calendar(limit).filter(
        organization__region_id=OuterRef(region_path), fiscal_year_id=OuterRef(year_path)
    )
    rows = model.objects.filter(status=state).exclude(fund__is_classified=True).filter(~Exists(published), Exists(due))
    if region_id is not None:
        rows = rows.filter(**{region_path: region_id})
    return list(rows.order_by().values_list(region_path, year_path).annotate(n=Count("pk")))


def _disclosure_title(by_year: dict[int, dict[str, int]]) -> str:
    parts = [
        f"{year}年度" + "、".join(f"{KIND_LABELS[kind]} {n} 项" for kind, n in by_kind.items())
        for year, by_kind in sorted(by_year.items())
    ]
    return f"公开绩效信息：{'；'.join(parts)}待公开"


@register("disclosure")
def disclosure_work(today: date, horizon: int, region_id: int | None = None) -> list[OpenWork]:
    limit = today + timedelta(days=horizon)
    calendar = {
        (region, year): (bureau, due_on)
        for region, year, bureau, due_on in _disclosure_calendar(limit, region_id).values_list(
            "organization__region_id", "fiscal_year_id", "organization_id", "due_on"
        )
    }
    if not calendar:
        return []
    # One item per finance bureau and due date (the reminder's key: two years due the same day
    # are one item, not two that would collide).
    waiting: dict[tuple[int, date], dict[int, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for kind in RECORDS:
        for region, year, n in _unpublished_counts(kind, limit, region_id):
            if (region, year) in calendar:
                waiting[calendar[(region, year)]][year][kind] = n
    pending_url = reverse("results:disclosure_pending")
    found = []
    for (bureau, due_on), by_year in sorted(waiting.items()):
        year = min(by_year)
        first_kind = next(iter(by_year[year]))
        found.append(
            OpenWork(
                model=Organization,
                object_id=bureau,
                step=WorkStep.DISCLOSURE.value,
                action=PUBLISH,
                owner_id=bureau,  # the same holders as for any record of the region (REGION scope)
                due_on=due_on,
                title=_disclosure_title(by_year),
                url=f"{pending_url}?kind={first_kind}&year={year}",
                party=Party.FINANCE,
            )
        )
    return found
