"""待办 for self-evaluation: to fill or fix (unit), to submit (department), to review (finance).

One query per kind the user may do, capped like monitoring; the round's due date is the item's."""

from django.urls import reverse

from apps.core import permissions
from apps.core.todo import TodoItem, register

from .models import SelfEvaluation, SelfEvaluationRound

SS = SelfEvaluation.Status
LIMIT = 10
WORK = [
    ((SS.RETURNED, SS.DRAFT), "selfeval.fill", "填报单位自评"),
    ((SS.DEPT_REVIEW,), "selfeval.submit", "审核单位自评"),
    ((SS.SUBMITTED,), "selfeval.review", "财政审核单位自评"),
]


@register
def self_evaluation_todos(user, fiscal_year) -> list[TodoItem]:
    """Work in open rounds. Self-evaluation looks back: the rounds of the selected year and of the
    year before it (in 2026 the 2025 self-evaluation is due)."""
    if fiscal_year is None:
        return []
    items = []
    for statuses, action, verb in WORK:
        if not permissions.has_action(user, action):
            continue
        evaluations = (
            SelfEvaluation.objects.restrict(user, action)
            .filter(
                status__in=statuses,
                round__fiscal_year_id__in=(fiscal_year - 1, fiscal_year),
                round__status=SelfEvaluationRound.Status.OPEN,
            )
            .select_related("fund", "round")
            .order_by("-status", "round__due_on", "pk")[:LIMIT]
        )
        for evaluation in evaluations:
            if evaluation.status == SS.RETURNED:
                note = f"已退回：{evaluation.return_comment}"
            else:
                note = f"{evaluation.round.fiscal_year_id}年度 · {evaluation.get_status_display()}"
            items.append(
                TodoItem(
                    title=f"{verb}：{evaluation.fund.code} {evaluation.fund.name}",
                    url=reverse("evaluations:self_detail", args=[evaluation.pk]),
                    category="单位绩效自评",
                    due_on=evaluation.round.due_on,
                    note=note,
                )
            )
    return items
