"""待办 for key evaluations: evaluations to carry out (the evaluator — finance or the department —
and the agency staff and experts assigned to them) and results awaiting 审定.

Key evaluations look back like self-evaluation: in 2026 the plans of 2025's funds are worked on,
so the plans of the selected year and of the year before count. One query per kind of work the
user's roles allow (rows through ``restrict``, so experts see only what they are assigned to), one
for the due dates; capped like the other providers."""

from django.urls import reverse

from apps.core import permissions
from apps.core.todo import TodoItem, register
from apps.orgs.models import WorkCalendar, WorkStep

from .models import EvaluationPlan, KeyEvaluation

KS = KeyEvaluation.Status
LIMIT = 10
WORK = [
    ((KS.IN_PROGRESS, KS.PLANNED), "conduct", "开展重点评价"),
    ((KS.SUBMITTED,), "complete", "审定重点评价结果"),
]
STEPS = {
    EvaluationPlan.Kind.FINANCE: WorkStep.FINANCE_EVALUATION,
    EvaluationPlan.Kind.DEPARTMENT: WorkStep.DEPT_EVALUATION,
}


@register
def key_evaluation_todos(user, fiscal_year) -> list[TodoItem]:
    if fiscal_year is None:
        return []
    found: list[tuple[KeyEvaluation, str]] = []
    for statuses, verb_action, verb in WORK:
        for kind in EvaluationPlan.Kind.values:
            action = f"evaluation.{verb_action}_{kind}"
            if not permissions.has_action(user, action):
                continue
            rows = (
                KeyEvaluation.objects.restrict(user, action)
                .filter(
                    status__in=statuses,
                    plan__kind=kind,
                    plan__status=EvaluationPlan.Status.ISSUED,
                    plan__fiscal_year_id__in=(fiscal_year - 1, fiscal_year),
                )
                .select_related("fund", "department__region", "plan")
                .order_by("-status", "plan__fiscal_year", "pk")[:LIMIT]
            )
            found += [(evaluation, verb) for evaluation in rows]
    if not found:
        return []
    due = {
        (region_id, year, step): due_on
        for region_id, year, step, due_on in WorkCalendar.objects.filter(
            organization__kind="finance",
            organization__region_id__in={e.department.region_id for e, _ in found},
            fiscal_year_id__in={e.plan.fiscal_year_id for e, _ in found},
            step__in=list(STEPS.values()),
        ).values_list("organization__region_id", "fiscal_year_id", "step", "due_on")
    }
    items = []
    for evaluation, verb in found:
        subject = (
            f"{evaluation.fund.code} {evaluation.fund.name}"
            if evaluation.fund_id
            else f"{evaluation.department.name}部门整体评价"
        )
        items.append(
            TodoItem(
                title=f"{verb}：{subject}",
                url=reverse("evaluations:key_detail", args=[evaluation.pk]),
                category=evaluation.plan.get_kind_display(),
                due_on=due.get(
                    (evaluation.department.region_id, evaluation.plan.fiscal_year_id, STEPS[evaluation.plan.kind])
                ),
                note=f"{evaluation.plan.fiscal_year_id}年度 · {evaluation.get_status_display()}",
            )
        )
    return items
