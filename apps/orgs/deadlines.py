"""Every deadline a user may see, in one shape: the calendar's steps, the rounds' due dates and the
per-item deadlines records carry (an open rectification's 整改期限, a returned target's 重新报送期限).

The calendar page and ``/api/v1/calendar/deadlines/`` both read here. Each kind is one query
started from ``restrict(user, "<model>.view")`` — a unit sees its own items, finance its region —
so the number of queries does not grow with the rows. The other apps' models are imported inside
the functions: ``orgs`` sits below them and must not import them when Django loads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.urls import reverse
from django.utils import timezone

from .models import Organization, WorkCalendar

ITEM_WINDOW_DAYS = 30  # the page's "coming" list: due within this many days
PAGE_LIMIT = 50  # rows per list on the page (the rest are one click away)
API_LIMIT = 1000  # rows per kind in the API answer (``truncated`` says when more exist)


class Kind:
    STEP = "step"
    MONITORING_ROUND = "monitoring_round"
    SELF_EVALUATION_ROUND = "self_evaluation_round"
    RECTIFICATION = "rectification"
    TARGET_RESUBMIT = "target_resubmit"

    LABELS = {
        STEP: "工作环节",
        MONITORING_ROUND: "监控轮次",
        SELF_EVALUATION_ROUND: "自评批次",
        RECTIFICATION: "整改期限",
        TARGET_RESUBMIT: "退回重报",
    }
    PER_ITEM = (RECTIFICATION, TARGET_RESUBMIT)


@dataclass(frozen=True, slots=True)
class Deadline:
    kind: str
    due_on: date
    title: str
    url: str
    organization_id: int  # the responsible organisation (the finance bureau for steps and rounds)
    organization_name: str
    region_id: int
    object_id: int
    starts_on: date | None = None
    note: str = ""
    done_by_unit: bool = False  # the unit has finished; finance checks it (nobody is chased)

    @property
    def kind_label(self) -> str:
        return Kind.LABELS[self.kind]


@dataclass(frozen=True, slots=True)
class Window:
    """Which deadlines: of one fiscal year, in a date range, in one region (each optional)."""

    fiscal_year: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    region_id: int | None = None

    def filter(self, rows, date_field: str, region_path: str):
        if self.fiscal_year is not None:
            rows = rows.filter(fiscal_year_id=self.fiscal_year)
        if self.date_from is not None:
            rows = rows.filter(**{f"{date_field}__gte": self.date_from})
        if self.date_to is not None:
            rows = rows.filter(**{f"{date_field}__lte": self.date_to})
        if self.region_id is not None:
            rows = rows.filter(**{region_path: self.region_id})
        return rows.order_by(date_field, "pk")


# --- each kind: one query --------------------------------------------------------------------------


def step_deadlines(user, window: Window, limit: int | None = None) -> list[Deadline]:
    rows = window.filter(
        WorkCalendar.objects.restrict(user, "calendar.view").select_related("organization__region"),
        "due_on",
        "organization__region_id",
    )
    url = reverse("orgs:calendar_list")
    return [
        Deadline(
            kind=Kind.STEP,
            due_on=e.due_on,
            title=f"{e.organization.region.name} · {e.get_step_display()}",
            url=f"{url}?region={e.organization.region_id}",
            organization_id=e.organization_id,
            organization_name=e.organization.name,
            region_id=e.organization.region_id,
            object_id=e.pk,
            starts_on=e.starts_on,
            note=e.note,
        )  # fmt: skip
        for e in rows[:limit]
    ]


def monitoring_round_deadlines(user, window: Window, limit: int | None = None) -> list[Deadline]:
    from apps.monitoring.models import MonitoringRound

    rows = window.filter(
        MonitoringRound.objects.restrict(user, "monitoring.round").select_related("organization"),
        "due_on",
        "organization__region_id",
    )
    return [
        Deadline(
            kind=Kind.MONITORING_ROUND,
            due_on=r.due_on,
            title=r.name,
            url=reverse("monitoring:round_detail", args=[r.pk]),
            organization_id=r.organization_id,
            organization_name=r.organization.name,
            region_id=r.organization.region_id,
            object_id=r.pk,
            starts_on=r.data_as_of,
            note=r.get_status_display(),
        )  # fmt: skip
        for r in rows[:limit]
    ]


def self_evaluation_round_deadlines(user, window: Window, limit: int | None = None) -> list[Deadline]:
    from apps.evaluations.models import SelfEvaluationRound

    rows = window.filter(
        SelfEvaluationRound.objects.restrict(user, "selfeval.round").select_related("organization"),
        "due_on",
        "organization__region_id",
    )
    return [
        Deadline(
            kind=Kind.SELF_EVALUATION_ROUND,
            due_on=r.due_on,
            title=r.name,
            url=reverse("evaluations:self_round_detail", args=[r.pk]),
            organization_id=r.organization_id,
            organization_name=r.organization.name,
            region_id=r.organization.region_id,
            object_id=r.pk,
            note=r.get_status_display(),
        )  # fmt: skip
        for r in rows[:limit]
    ]


def rectification_deadlines(user, window: Window, limit: int | None = None) -> list[Deadline]:
    from apps.results.models import Rectification

    rows = window.filter(
        Rectification.objects.restrict(user, "rectification.view").open().select_related("organization", "fund"),
        "deadline",
        "region_id",
    )
    return [
        Deadline(
            kind=Kind.RECTIFICATION,
            due_on=r.deadline,
            title=f"整改：{r.fund.name + '：' if r.fund_id else ''}{r.problem[:40]}",
            url=reverse("results:rectification_detail", args=[r.pk]),
            organization_id=r.organization_id,
            organization_name=r.organization.name,
            region_id=r.region_id,
            object_id=r.pk,
            note=r.get_status_display(),
            done_by_unit=r.status == Rectification.Status.VERIFYING,
        )  # fmt: skip
        for r in rows[:limit]
    ]


def _target_subject(target) -> str:
    return f"{target.fund.code} {target.fund.name}" if target.fund_id else f"{target.organization.name}部门整体"


def target_resubmit_deadlines(user, window: Window, limit: int | None = None) -> list[Deadline]:
    from apps.targets.models import PerformanceTarget, TargetStatus

    rows = window.filter(
        PerformanceTarget.objects.restrict(user, "target.view")
        .filter(status=TargetStatus.RETURNED, resubmit_by__isnull=False)
        .select_related("organization", "fund"),
        "resubmit_by",
        "organization__region_id",
    )
    return [
        Deadline(
            kind=Kind.TARGET_RESUBMIT,
            due_on=t.resubmit_by,
            title=f"重新报送绩效目标：{_target_subject(t)}",
            url=reverse("targets:target_detail", args=[t.pk]),
            organization_id=t.organization_id,
            organization_name=t.organization.name,
            region_id=t.organization.region_id,
            object_id=t.pk,
            note=t.return_comment[:60],
        )  # fmt: skip
        for t in rows[:limit]
    ]


SCHEDULE_KINDS = {
    Kind.STEP: step_deadlines,
    Kind.MONITORING_ROUND: monitoring_round_deadlines,
    Kind.SELF_EVALUATION_ROUND: self_evaluation_round_deadlines,
}
ITEM_KINDS = {
    Kind.RECTIFICATION: rectification_deadlines,
    Kind.TARGET_RESUBMIT: target_resubmit_deadlines,
}


def _merge(lists: list[list[Deadline]], limit: int | None = None) -> list[Deadline]:
    rows = sorted((d for rows in lists for d in rows), key=lambda d: (d.due_on, d.kind, d.object_id))
    return rows[:limit] if limit is not None else rows


def all_deadlines(user, window: Window, limit: int = API_LIMIT) -> tuple[list[Deadline], bool]:
    """Every kind the user may see, by date; ``limit`` rows per kind. Returns (rows, truncated)."""
    found, truncated = [], False
    for select in (*SCHEDULE_KINDS.values(), *ITEM_KINDS.values()):
        rows = select(user, window, limit + 1)
        truncated |= len(rows) > limit
        found.append(rows[:limit])
    return _merge(found), truncated


# --- the calendar page ------------------------------------------------------------------------------


def rounds_by_bureau(user, fiscal_year: int | None, region_id: int | None) -> dict[int, list[Deadline]]:
    """The monitoring and self-evaluation rounds of the year, by the finance bureau that runs them."""
    window = Window(fiscal_year=fiscal_year, region_id=region_id)
    found: dict[int, list[Deadline]] = {}
    for d in _merge([monitoring_round_deadlines(user, window), self_evaluation_round_deadlines(user, window)]):
        found.setdefault(d.organization_id, []).append(d)
    return found


@dataclass
class ItemLists:
    coming: list[Deadline]
    overdue: list[Deadline]
    more_coming: bool
    more_overdue: bool


def item_lists(user, region_id: int | None, today: date | None = None) -> ItemLists:
    """Per-item deadlines of every year: those due in the next 30 days and those already missed."""
    today = today or timezone.localdate()
    coming_window = Window(date_from=today, date_to=today + timedelta(days=ITEM_WINDOW_DAYS), region_id=region_id)
    overdue_window = Window(date_to=today - timedelta(days=1), region_id=region_id)
    coming = [select(user, coming_window, PAGE_LIMIT + 1) for select in ITEM_KINDS.values()]
    overdue = [select(user, overdue_window, PAGE_LIMIT + 1) for select in ITEM_KINDS.values()]
    return ItemLists(
        coming=_merge(coming, PAGE_LIMIT),
        overdue=_merge(overdue, PAGE_LIMIT),
        more_coming=sum(map(len, coming)) > PAGE_LIMIT,
        more_overdue=sum(map(len, overdue)) > PAGE_LIMIT,
    )


# --- "are reminders due soon?" -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Badge:
    label: str
    css: str  # a Bootstrap colour


class ReminderWindows:
    """Each region's reminder rule, read once: whether a date is inside the reminders' window.

    The window is the rule's first reminder (7 days by default): within it the people who must act
    are being reminded; after the due day it escalates; past ``stop_after`` reminders stop."""

    def __init__(self) -> None:
        from apps.reminders.models import ReminderRule

        self.default = ReminderRule.default()
        self.by_region = {
            rule.organization.region_id: rule
            for rule in ReminderRule.objects.select_related("organization").filter(
                organization__kind=Organization.Kind.FINANCE
            )
        }

    def item_badge(self, deadline: Deadline, today: date | None = None) -> Badge | None:
        """A per-item deadline's badge; work the unit has handed in waits on finance, unchased."""
        if deadline.done_by_unit:
            return Badge(deadline.note, "secondary")
        return self.badge(deadline.due_on, deadline.region_id, today)

    def badge(self, due: date, region_id: int, today: date | None = None, *, schedule: bool = False) -> Badge | None:
        """The reminder state of a deadline. ``schedule``: a step or round date, which passes rather
        than goes overdue (the work left open behind it is what is overdue, and chased)."""
        rule = self.by_region.get(region_id, self.default)
        if not rule.enabled:
            return None
        days = (due - (today or timezone.localdate())).days
        window = max(rule.days_before_list, default=0)
        if days < 0:
            stopped = bool(rule.stop_after) and -days > rule.stop_after
            if schedule:
                return (
                    Badge("已截止", "secondary") if stopped else Badge(f"已截止{-days}天，逾期未办的在催办", "danger")
                )
            if stopped:
                return Badge(f"已逾期{-days}天（不再提醒）", "secondary")
            return Badge(f"已逾期{-days}天", "danger")
        if days == 0:
            return Badge("今天到期", "danger")
        if days <= window:
            return Badge(f"{window}天内到期", "warning")
        return None
