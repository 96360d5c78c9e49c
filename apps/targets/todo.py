"""待办 for the target and budget-request work: what each person must do next, oldest first.

One query per kind of work (each starting from ``restrict``), at most ``LIMIT`` items each, with the
due date from the region's work calendar.
"""

from __future__ import annotations

from django.urls import reverse

from apps.core import permissions
from apps.core.todo import TodoItem, register
from apps.funds.models import SpecialFund
from apps.funds.selectors import with_target_state
from apps.orgs.models import Organization, WorkCalendar, WorkStep

from .models import PerformanceTarget
from .models import TargetStatus as S

LIMIT = 10

# (statuses, action, category, calendar step, what to do)
TARGET_WORK = [
    ((S.RETURNED, S.DRAFT), "target.edit", "绩效目标填报", WorkStep.TARGET_FILING, "填报/修改"),
    ((S.DEPT_REVIEW,), "target.submit", "部门审核", WorkStep.TARGET_DEPT_REVIEW, "审核并报送"),
    ((S.SECTOR_REVIEW,), "target.sector_review", "财政审核", WorkStep.TARGET_FINANCE_REVIEW, "处室审核"),
    ((S.PERF_REVIEW,), "target.approve", "财政审核", WorkStep.TARGET_FINANCE_REVIEW, "审核批复"),
]


def _due_dates(user, fiscal_year) -> dict[str, object]:
    org = user.organization
    if org is None or fiscal_year is None:
        return {}
    return dict(
        WorkCalendar.objects.filter(
            organization__region_id=org.region_id, organization__kind=Organization.Kind.FINANCE, fiscal_year=fiscal_year
        ).values_list("step", "due_on")
    )


def _subject(target: PerformanceTarget) -> str:
    return f"{target.fund.code} {target.fund.name}" if target.fund_id else f"{target.organization.name}部门整体绩效目标"


@register
def target_todos(user, fiscal_year) -> list[TodoItem]:
    items: list[TodoItem] = []
    due = None
    for statuses, action, category, step, verb in TARGET_WORK:
        if not permissions.has_action(user, action):
            continue
        if due is None:
            due = _due_dates(user, fiscal_year)
        targets = (
            PerformanceTarget.objects.restrict(user, action)
            .filter(status__in=statuses, fiscal_year=fiscal_year)
            .select_related("fund", "organization")
            .order_by("-status", "status_changed_at", "pk")[:LIMIT]
        )
        for target in targets:
            note = f"已退回：{target.return_comment}" if target.status == S.RETURNED else target.get_status_display()
            items.append(
                TodoItem(
                    title=f"{verb}：{_subject(target)}",
                    url=reverse("targets:target_detail", args=[target.pk]),
                    category=category,
                    due_on=target.resubmit_by if target.status == S.RETURNED and target.resubmit_by else due.get(step),
                    note=note,
                )
            )
    return items


@register
def budget_request_todos(user, fiscal_year) -> list[TodoItem]:
    items: list[TodoItem] = []
    if permissions.has_action(user, "fund.submit"):
        ready = (
            with_target_state(SpecialFund.objects.restrict(user, "fund.submit"))
            .filter(fiscal_year=fiscal_year, request_status=SpecialFund.RequestStatus.DRAFT)
            .filter(target_status__in=[S.SECTOR_REVIEW, S.PERF_REVIEW, S.APPROVED])
            .order_by("code")[:LIMIT]
        )
        items += [
            TodoItem(
                f"预算申报：{f.code} {f.name}",
                reverse("funds:fund_detail", args=[f.pk]),
                "预算申报",
                note="绩效目标已报送财政",
            )  # fmt: skip
            for f in ready
        ]
    if permissions.has_action(user, "fund.arrange"):
        waiting = (
            SpecialFund.objects.restrict(user, "fund.arrange")
            .filter(fiscal_year=fiscal_year, request_status=SpecialFund.RequestStatus.SUBMITTED)
            .order_by("code")[:LIMIT]
        )
        items += [
            TodoItem(
                f"安排预算：{f.code} {f.name}", reverse("funds:fund_detail", args=[f.pk]), "预算安排", note="部门已申报"
            )  # fmt: skip
            for f in waiting
        ]
    return items
