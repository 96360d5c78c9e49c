"""Open work with a due date, for the reminder sweep (``apps.reminders.sources``): targets to file
or fix (the unit), to review and submit (the department), to review and approve (finance).

The due date is the region's work calendar entry for the target's fiscal year and step; a returned
target with a resubmission date (``resubmit_by``) is due then instead. Two queries whatever the
number of targets: the calendar, then the targets whose due date is within the horizon.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import NamedTuple

from django.db.models import Q
from django.urls import reverse

from apps.orgs.models import Organization, WorkCalendar, WorkStep
from apps.reminders.sources import OpenWork, Party, register

from .models import PerformanceTarget
from .models import TargetStatus as S


class Work(NamedTuple):
    action: str
    step: str
    party: str
    verb: str


# Which work each status waits for. The actions are the ones the workflow checks (services.TARGET_FLOW).
WORK = {
    S.DRAFT: Work("target.edit", WorkStep.TARGET_FILING, Party.UNIT, "填报绩效目标"),
    S.RETURNED: Work("target.edit", WorkStep.TARGET_FILING, Party.UNIT, "修改并重新报送绩效目标"),
    S.DEPT_REVIEW: Work("target.submit", WorkStep.TARGET_DEPT_REVIEW, Party.DEPARTMENT, "审核并报送绩效目标"),
    S.SECTOR_REVIEW: Work("target.sector_review", WorkStep.TARGET_FINANCE_REVIEW, Party.FINANCE, "处室审核绩效目标"),
    S.PERF_REVIEW: Work("target.approve", WorkStep.TARGET_FINANCE_REVIEW, Party.FINANCE, "审核批复绩效目标"),
}
STEPS = {work.step for work in WORK.values()}
URL_HOLE = 987654321


def url_pattern(name: str) -> str:
    """``"/targets/{}/"`` for a URL taking one pk: reversed once, not once per row."""
    return reverse(name, args=[URL_HOLE]).replace(str(URL_HOLE), "{}")


def calendar(region_id: int | None = None) -> dict[tuple[int, int, str], date]:
    """(region, fiscal year, step) → due date, for the target steps of years not yet closed."""
    entries = WorkCalendar.objects.filter(
        organization__kind=Organization.Kind.FINANCE, fiscal_year__is_closed=False, step__in=STEPS
    )
    if region_id is not None:
        entries = entries.filter(organization__region_id=region_id)
    return {
        (region, year, step): due_on
        for region, year, step, due_on in entries.values_list(
            "organization__region_id", "fiscal_year_id", "step", "due_on"
        )
    }


def _due_within(due_dates: dict[tuple[int, int, str], date], limit: date) -> Q:
    """Targets whose due date is on or before ``limit``, as one filter.

    An adjustment (a version after the first) has no calendar deadline — the filing and review
    dates concern the budget request, long past when a target is adjusted during the year — so it
    is reminded only of a resubmission date set when it was returned."""
    q = Q(status=S.RETURNED, resubmit_by__lte=limit)
    for (region, year, step), due_on in due_dates.items():
        if due_on > limit:
            continue
        statuses = [status for status, work in WORK.items() if work.step == step]
        on_calendar = Q(organization__region_id=region, fiscal_year_id=year, status__in=statuses, previous__isnull=True)
        if step == WorkStep.TARGET_FILING:
            on_calendar &= ~Q(status=S.RETURNED, resubmit_by__isnull=False)
        q |= on_calendar
    return q


@register("targets")
def open_targets(today: date, horizon: int, region_id: int | None = None) -> Iterator[OpenWork]:
    limit = today + timedelta(days=horizon)
    due_dates = calendar(region_id)
    targets = PerformanceTarget.objects.filter(
        _due_within(due_dates, limit),
        status__in=list(WORK),
        fiscal_year__is_closed=False,
        next_version__isnull=True,  # the live version only (an older one is approved or superseded anyway)
    )
    if region_id is not None:
        targets = targets.filter(organization__region_id=region_id)
    url = url_pattern("targets:target_detail")
    rows = targets.values_list(
        "pk", "status", "organization_id", "organization__region_id", "fiscal_year_id", "resubmit_by",
        "previous_id", "fund__code", "fund__name", "organization__name", "fund__is_classified",
    )  # fmt: skip
    for pk, status, owner_id, region, year, resubmit_by, previous_id, code, name, org_name, classified in rows.iterator(
        chunk_size=5000
    ):
        work = WORK[status]
        if status == S.RETURNED and resubmit_by is not None:
            due_on = resubmit_by
        elif previous_id is None:
            due_on = due_dates[(region, year, work.step)]
        else:
            continue  # an adjustment without a resubmission date (excluded in SQL already)
        subject = f"{code} {name}" if code else f"{org_name}部门整体绩效目标"
        yield OpenWork(
            model=PerformanceTarget,
            object_id=pk,
            step=work.step,
            action=work.action,
            owner_id=owner_id,  # PerformanceTarget's scope path is its filing organisation
            due_on=due_on,
            title=f"{work.verb}：{subject}",
            url=url.format(pk),
            party=work.party,
            classified=bool(classified),  # a 涉密 fund: e-mail leaves the title out
        )
