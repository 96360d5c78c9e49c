"""Reads of targets shared by pages, API, batch approval and exports."""

from __future__ import annotations

import functools
import operator
from datetime import date, timedelta

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from apps.core import permissions
from apps.indicators.models import LibraryIndicator
from apps.orgs.models import Organization, WorkCalendar, WorkStep

from . import quality
from .models import PerformanceTarget, TargetIndicator, TargetStatus

REVIEW_STAGES = {
    TargetStatus.DEPT_REVIEW: "target.submit",
    TargetStatus.SECTOR_REVIEW: "target.sector_review",
    TargetStatus.PERF_REVIEW: "target.approve",
}


def target_queryset(user, action: str = "target.view") -> QuerySet:
    return PerformanceTarget.objects.restrict(user, action).select_related(
        "fund__department", "organization__region", "fiscal_year", "previous"
    )


def target_detail(user, pk: int) -> PerformanceTarget:
    return (
        target_queryset(user)
        .prefetch_related(
            Prefetch("indicators", queryset=TargetIndicator.objects.select_related("library_indicator")), "tasks"
        )
        .get(pk=pk)
    )


RESUBMIT_MIN_DAYS = 7  # a returned target gets at least a week to be fixed


def resubmit_default(target: PerformanceTarget, today: date | None = None) -> date:
    """The resubmission date the return form proposes: the region's target filing due date of the
    target's year, but no sooner than a week from today (a late return still leaves time to fix)
    and no later than a year from today."""
    today = today or timezone.localdate()
    filing = (
        WorkCalendar.objects.filter(
            organization__kind=Organization.Kind.FINANCE,
            organization__region_id=target.organization.region_id,
            fiscal_year_id=target.fiscal_year_id,
            step=WorkStep.TARGET_FILING,
        )
        .values_list("due_on", flat=True)
        .first()
    )
    week = today + timedelta(days=RESUBMIT_MIN_DAYS)
    # Capped at a year ahead, the latest any return may set (a target of a later year may be due later).
    return min(max(filing, week), one_year_after(today)) if filing else week


def one_year_after(day: date) -> date:
    """The same day a year later (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def resubmit_latest(target: PerformanceTarget, returning_from: str, today: date | None = None) -> date:
    """The latest resubmission date a return from status ``returning_from`` may set.

    The department returning to its own unit gets no later than ``resubmit_default``: its unit's
    lateness escalates to the department and then to finance from that date, and a later one would
    let the department put off finance hearing of it. Finance may give up to a year."""
    today = today or timezone.localdate()
    if returning_from == TargetStatus.DEPT_REVIEW:
        return resubmit_default(target, today)
    return one_year_after(today)


def review_queue(
    *, user, fiscal_year=None, department=None, status: str = "", waiting_days: int | None = None, q: str = ""
) -> QuerySet:
    """Targets waiting for this user's decision, oldest first.

    Each stage is its own restricted queryset, OR-ed together, so the (fiscal_year, status) index
    applies (a ``pk IN (subquery)`` per stage scanned every target of the status)."""
    stages = [
        PerformanceTarget.objects.restrict(user, action).filter(status=stage)
        for stage, action in REVIEW_STAGES.items()
        if permissions.has_action(user, action) and status in ("", stage)
    ]
    if not stages:
        return PerformanceTarget.objects.none()
    targets = (target_queryset(user) & functools.reduce(operator.or_, stages)).prefetch_related(
        Prefetch("indicators", queryset=TargetIndicator.objects.order_by("sort_order", "id"))
    )
    if fiscal_year:
        targets = targets.filter(fiscal_year=fiscal_year)
    if department:
        targets = targets.filter(Q(fund__department=department) | Q(organization=department))
    if waiting_days:
        targets = targets.filter(status_changed_at__lte=timezone.now() - timedelta(days=waiting_days))
    if q:
        targets = targets.filter(Q(fund__name__icontains=q) | Q(fund__code__icontains=q))
    return targets.order_by("status_changed_at", "pk")


def core_indicators_by_sector(sectors) -> dict[str, list[tuple[int, str]]]:
    result: dict[str, list[tuple[int, str]]] = {}
    rows = LibraryIndicator.objects.filter(
        is_core=True, status=LibraryIndicator.Status.ACTIVE, sector__in=set(sectors)
    ).values_list("sector", "pk", "name")
    for sector, pk, name in rows:
        result.setdefault(sector, []).append((pk, name))
    return result


def last_year_by_fund(funds) -> dict[int, quality.LastYear]:
    """For each fund with a previous-year fund: that fund's latest approved target (2 queries)."""
    previous_ids = {f.previous_id: f.pk for f in funds if f is not None and f.previous_id}
    if not previous_ids:
        return {}
    approved = (
        PerformanceTarget.objects.filter(fund_id__in=previous_ids, status=TargetStatus.APPROVED)
        .order_by("fund_id", "-version")
        .prefetch_related("indicators")
    )
    result: dict[int, quality.LastYear] = {}
    for target in approved:
        fund_id = previous_ids[target.fund_id]
        if fund_id not in result:
            result[fund_id] = quality.LastYear(
                annual_goal=target.annual_goal,
                rows=tuple(quality.row_signature(r) for r in target.indicators.all()),
            )
    return result


def quality_for(targets) -> dict[int, list[quality.Issue]]:
    """Quality issues of already-loaded targets (indicators prefetched), in a fixed number of queries."""
    targets = list(targets)
    funds = [t.fund for t in targets if t.fund_id]
    last_year = last_year_by_fund(funds)
    core = core_indicators_by_sector({f.sector for f in funds})
    return {
        t.pk: quality.check(
            rows=list(t.indicators.all()),
            annual_goal=t.annual_goal,
            last_year=last_year.get(t.fund_id),
            core_indicators=core.get(t.fund.sector, []) if t.fund_id else [],
            kind=t.kind,
        )
        for t in targets
    }


def versions_of(target: PerformanceTarget) -> QuerySet:
    """Every version of the same fund's (or department's) target, newest first."""
    if target.fund_id:
        versions = PerformanceTarget.objects.filter(fund_id=target.fund_id)
    else:
        versions = PerformanceTarget.objects.filter(
            kind=PerformanceTarget.Kind.DEPARTMENT,
            organization_id=target.organization_id,
            fiscal_year=target.fiscal_year,
        )
    return versions.order_by("-version")


def last_year_values(target: PerformanceTarget) -> dict[int, str]:
    """Library indicator id → "上年目标值：…；上年实际值：…" for this fund (shown next to the row).

    The actual value comes from last year's self-evaluation of the predecessor fund, once there is one."""
    if not target.fund_id or not target.fund.previous_id:
        return {}
    previous = (
        PerformanceTarget.objects.filter(fund_id=target.fund.previous_id, status=TargetStatus.APPROVED)
        .order_by("-version")
        .first()
    )
    if previous is None:
        return {}
    from apps.evaluations.selectors_shared import actual_values_by_library_indicator

    actuals = actual_values_by_library_indicator(target.fund.previous_id)
    return {
        row.library_indicator_id: (
            f"上年目标值：{row.value_display}；上年实际值：{actuals.get(row.library_indicator_id, '—')}"
        )
        for row in previous.indicators.filter(library_indicator__isnull=False)
    }
