"""待办 for monitoring: reports to fill or fix, to submit, to receive (one query each, capped)."""

from django.urls import reverse

from apps.core import permissions
from apps.core.todo import TodoItem, register

from .models import MonitoringReport

RS = MonitoringReport.Status
LIMIT = 10
WORK = [
    ((RS.RETURNED, RS.DRAFT), "monitoring.fill", "填报监控报告"),
    ((RS.DEPT_REVIEW,), "monitoring.submit", "审核监控报告"),
    ((RS.SUBMITTED,), "monitoring.receive", "接收监控报告"),
]


@register
def monitoring_todos(user, fiscal_year) -> list[TodoItem]:
    items = []
    for statuses, action, verb in WORK:
        if not permissions.has_action(user, action):
            continue
        reports = (
            MonitoringReport.objects.restrict(user, action)
            .filter(status__in=statuses, round__fiscal_year_id=fiscal_year, round__status="open")
            .select_related("fund", "round")
            .order_by("-status", "round__due_on", "pk")[:LIMIT]
        )
        for report in reports:
            note = f"已退回：{report.return_comment}" if report.status == RS.RETURNED else report.get_status_display()
            items.append(
                TodoItem(
                    title=f"{verb}：{report.fund.code} {report.fund.name}",
                    url=reverse("monitoring:report_detail", args=[report.pk]),
                    category="绩效运行监控",
                    due_on=report.round.due_on,
                    note=note,
                )
            )
    return items
