"""Key-evaluation plans (重点评价计划): which funds, and which departments as a whole, an evaluator
evaluates for one year.

The evaluator is the region's finance bureau (财政重点评价, ``plan.manage_finance``) or a budget
department evaluating its own and its units' funds (部门评价, ``plan.manage_department``); one plan
per evaluator and year. The plan's ``fiscal_year`` is the year whose funds are evaluated: key
evaluations run in N+1 on year N's funds. Funds (and departments) are added while the plan is a
draft; issuing it (下达) lets the evaluations start; once every evaluation in it is completed the
plan's owner closes it at year end (办结, ``plan_close``). Every write is audited.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from apps.core import audit, permissions
from apps.core.workflow import Transition, Workflow
from apps.funds.models import SpecialFund
from apps.orgs.models import FiscalYear, Organization
from apps.targets.models import PerformanceTarget, TargetStatus

from .key_services import create_evaluations
from .models import EvaluationPlan, KeyEvaluation

PK = EvaluationPlan.Kind
PS = EvaluationPlan.Status


def manage_action(kind: str) -> str:
    return f"plan.manage_{kind}"


def kind_of_evaluator(organization: Organization) -> str:
    if organization.kind == Organization.Kind.FINANCE:
        return PK.FINANCE
    if organization.kind == Organization.Kind.DEPARTMENT:
        return PK.DEPARTMENT
    raise ValidationError({"organization": "评价主体只能是区域的财政局或预算部门。"})


def finance_bureau_of(user) -> Organization | None:
    """The finance bureau the user works in (its own organisation or the bureau above its division)."""
    org = user.organization
    if org is None:
        return None
    bureau = org if org.kind == Organization.Kind.FINANCE else org.parent
    return bureau if bureau is not None and bureau.kind == Organization.Kind.FINANCE else None


def evaluator_for(user) -> Organization | None:
    """The organisation whose plans this user draws up: the region's finance bureau for finance, the
    user's own department for a department approver; ``None`` if the user draws up no plan."""
    bureau = finance_bureau_of(user)
    if bureau is not None and permissions.can(user, manage_action(PK.FINANCE), bureau):
        return bureau
    org = user.organization
    if (
        org is not None
        and org.kind == Organization.Kind.DEPARTMENT
        and permissions.can(user, manage_action(PK.DEPARTMENT), org)
    ):
        return org
    return None


def may_manage(user, plan: EvaluationPlan) -> bool:
    return permissions.can(user, manage_action(plan.kind), plan)


# --- the funds a plan may hold ---------------------------------------------------------------


def approved_target_exists():
    return Exists(PerformanceTarget.objects.filter(fund_id=OuterRef("pk"), status=TargetStatus.APPROVED))


def scope_q(kind: str, organization: Organization, prefix: str = "") -> Q:
    """Funds in the evaluator's scope: the region for finance, the department's funds for a department."""
    if kind == PK.FINANCE:
        return Q(**{f"{prefix}region_id": organization.region_id})
    return Q(**{f"{prefix}department_id": organization.pk})


def eligible_funds(plan: EvaluationPlan) -> QuerySet:
    """Funds of the plan's year in the evaluator's scope that have an approved target (the universe)."""
    return (
        SpecialFund.objects.filter(scope_q(plan.kind, plan.organization), fiscal_year_id=plan.fiscal_year_id)
        .alias(has_target=approved_target_exists())
        .filter(has_target=True)
    )


def latest_approved_targets(fund_ids: Iterable[int]) -> dict[int, PerformanceTarget]:
    """fund id → its latest approved target version (one query)."""
    latest: dict[int, PerformanceTarget] = {}
    targets = PerformanceTarget.objects.filter(fund_id__in=list(fund_ids), status=TargetStatus.APPROVED)
    for target in targets.order_by("fund_id", "-version").only("pk", "fund_id", "version", "organization_id"):
        latest.setdefault(target.fund_id, target)
    return latest


def latest_department_target(department: Organization, fiscal_year_id: int) -> PerformanceTarget | None:
    return (
        PerformanceTarget.objects.filter(
            kind=PerformanceTarget.Kind.DEPARTMENT,
            organization=department,
            fiscal_year_id=fiscal_year_id,
            status=TargetStatus.APPROVED,
        )
        .order_by("-version")
        .first()
    )


# --- writes ----------------------------------------------------------------------------------


@transaction.atomic
def plan_create(*, actor, organization: Organization, fiscal_year: FiscalYear, name: str = "") -> EvaluationPlan:
    """A new draft plan of ``organization`` (finance bureau or department) for ``fiscal_year``'s funds."""
    kind = kind_of_evaluator(organization)
    if not permissions.can(actor, manage_action(kind), organization):
        if kind == PK.FINANCE:
            raise PermissionDenied("只有本区域财政部门可以编制财政重点评价计划。")
        raise PermissionDenied("只有本部门的审核人可以编制部门评价计划。")
    name = (name or "").strip()
    if len(name) > 100:
        raise ValidationError({"name": "计划名称不能超过 100 个字。"})
    if not name:
        label = "财政重点评价计划" if kind == PK.FINANCE else "部门评价计划"
        name = f"{organization.short_name or organization.name}{fiscal_year.year}年度项目{label}"
    duplicate = EvaluationPlan.objects.filter(organization=organization, fiscal_year=fiscal_year).first()
    if duplicate is not None:
        message = f"{organization.name}已有{fiscal_year.year}年度的评价计划“{duplicate.name}”，每年只编制一个。"
        raise ValidationError({"fiscal_year": message})
    plan = EvaluationPlan(organization=organization, fiscal_year=fiscal_year, kind=kind, name=name, created_by=actor)
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError:  # a second click that raced past the check above
        raise ValidationError(
            {"fiscal_year": f"{organization.name}已有{fiscal_year.year}年度的评价计划，每年只编制一个。"}
        ) from None
    audit.record(audit.Kind.CREATE, actor=actor, obj=plan, comment=f"编制{plan.get_kind_display()}计划“{name}”")
    return plan


def _lock_draft(plan: EvaluationPlan, actor) -> EvaluationPlan:
    locked = (
        EvaluationPlan.objects.select_for_update(of=("self",)).select_related("organization__region").get(pk=plan.pk)
    )
    if not may_manage(actor, locked):
        raise PermissionDenied("您无权调整该评价计划。")
    if locked.status != PS.DRAFT:
        raise ValidationError(f"评价计划当前状态为“{locked.get_status_display()}”，不能再调整评价对象。")
    return locked


def fund_problem(plan: EvaluationPlan, fund: SpecialFund, has_target: bool) -> str:
    """Why ``fund`` cannot be evaluated in ``plan`` ('' if it can)."""
    if fund.fiscal_year_id != plan.fiscal_year_id:
        return (
            f"“{fund.code} {fund.name}”是{fund.fiscal_year_id}年度的项目，本计划评价{plan.fiscal_year_id}年度的项目。"
        )
    if plan.kind == PK.FINANCE and fund.region_id != plan.organization.region_id:
        return f"“{fund.code} {fund.name}”不属于{plan.organization.region.name}，不能列入本计划。"
    if plan.kind == PK.DEPARTMENT and fund.department_id != plan.organization_id:
        return f"“{fund.code} {fund.name}”不是{plan.organization.name}（含下属单位）的项目，不能列入部门评价。"
    if not has_target:
        return f"“{fund.code} {fund.name}”尚无已批复的绩效目标，不能列入重点评价。"
    return ""


@transaction.atomic
def plan_add_funds(*, actor, plan: EvaluationPlan, funds: Iterable[SpecialFund]) -> int:
    """Add funds to a draft plan: one key evaluation each, against the fund's latest approved target,
    with the default frame. All or nothing; funds already in the plan are skipped (a double submit
    adds nothing). Returns the number added."""
    plan = _lock_draft(plan, actor)
    ids = {fund.pk for fund in funds}
    if not ids:
        raise ValidationError("请选择要列入计划的项目。")
    rows = list(
        SpecialFund.objects.filter(pk__in=ids)
        .select_related("region")
        .annotate(has_target=approved_target_exists())
        .order_by("code")
    )
    problems = [p for fund in rows if (p := fund_problem(plan, fund, fund.has_target))]
    if problems:
        raise ValidationError(problems)
    have = set(plan.evaluations.filter(fund_id__in=ids).values_list("fund_id", flat=True))
    new = [fund for fund in rows if fund.pk not in have]
    if not new:
        return 0
    targets = latest_approved_targets(f.pk for f in new)
    create_evaluations(
        plan,
        [
            KeyEvaluation(
                subject=KeyEvaluation.Subject.FUND, fund=f, department_id=f.department_id, target=targets[f.pk]
            )
            for f in new
        ],
    )
    listed = "、".join(f"{f.code} {f.name}" for f in new[:20]) + ("等" if len(new) > 20 else "")
    audit.record(
        audit.Kind.UPDATE,
        actor=actor,
        obj=plan,
        changes={"评价项目": {"from": None, "to": [f.code for f in new]}},
        comment=f"列入评价 {len(new)} 个项目：{listed}",
    )
    return len(new)


def _remove(actor, plan: EvaluationPlan, evaluation: KeyEvaluation, what: str) -> None:
    if evaluation.status != KeyEvaluation.Status.PLANNED:
        raise ValidationError(f"“{what}”的评价已经开始，不能移出计划。")
    # Object permissions of assigned experts and agency staff go with the evaluation.
    from guardian.models import GroupObjectPermission, UserObjectPermission

    ct = ContentType.objects.get_for_model(KeyEvaluation)
    for model in (UserObjectPermission, GroupObjectPermission):
        model.objects.filter(content_type=ct, object_pk=str(evaluation.pk)).delete()
    evaluation.delete()
    audit.record(
        audit.Kind.UPDATE,
        actor=actor,
        obj=plan,
        changes={"评价对象": {"from": what, "to": None}},
        comment=f"移出评价计划：{what}",
    )


@transaction.atomic
def plan_remove_fund(*, actor, plan: EvaluationPlan, fund: SpecialFund) -> None:
    plan = _lock_draft(plan, actor)
    evaluation = plan.evaluations.filter(fund=fund).first()
    if evaluation is None:
        raise ValidationError(f"“{fund.code} {fund.name}”不在本计划中。")
    _remove(actor, plan, evaluation, f"{fund.code} {fund.name}")


@transaction.atomic
def plan_remove_evaluation(*, actor, plan: EvaluationPlan, evaluation: KeyEvaluation) -> None:
    """Take a fund or a department evaluation out of a draft plan (only while it has not started)."""
    plan = _lock_draft(plan, actor)
    evaluation = plan.evaluations.select_related("fund", "department").filter(pk=evaluation.pk).first()
    if evaluation is None:
        raise ValidationError("该评价不在本计划中。")
    what = (
        f"{evaluation.fund.code} {evaluation.fund.name}"
        if evaluation.fund_id
        else f"{evaluation.department.name}部门整体"
    )
    _remove(actor, plan, evaluation, what)


@transaction.atomic
def plan_add_department(*, actor, plan: EvaluationPlan, department: Organization) -> KeyEvaluation:
    """部门整体评价 of ``department`` (finance plans only) against its latest approved department target."""
    plan = _lock_draft(plan, actor)
    if plan.kind != PK.FINANCE:
        raise ValidationError("部门整体评价由财政部门组织，只能列入财政重点评价计划。")
    if department.kind != Organization.Kind.DEPARTMENT:
        raise ValidationError(f"“{department.name}”不是预算部门。")
    if department.region_id != plan.organization.region_id:
        raise ValidationError(f"“{department.name}”不属于{plan.organization.region.name}，不能列入本计划。")
    if plan.evaluations.filter(subject=KeyEvaluation.Subject.DEPARTMENT, department=department).exists():
        raise ValidationError(f"{department.name}的部门整体评价已在本计划中。")
    target = latest_department_target(department, plan.fiscal_year_id)
    if target is None:
        raise ValidationError(
            f"{department.name}尚无{plan.fiscal_year_id}年度已批复的部门整体绩效目标，不能开展部门整体评价。"
        )
    (evaluation,) = create_evaluations(
        plan, [KeyEvaluation(subject=KeyEvaluation.Subject.DEPARTMENT, department=department, target=target)]
    )
    audit.record(
        audit.Kind.UPDATE,
        actor=actor,
        obj=plan,
        changes={"评价对象": {"from": None, "to": f"{department.name}部门整体"}},
        comment=f"列入部门整体评价：{department.name}",
    )
    return evaluation


def _has_evaluations(plan: EvaluationPlan, actor) -> None:
    if not plan.evaluations.exists():
        raise ValidationError("评价计划中还没有评价对象，不能下达。")


def open_evaluations_message(plan: EvaluationPlan) -> str:
    """Why ``plan`` cannot be closed yet ('' when every evaluation in it is completed)."""
    open_ = plan.evaluations.exclude(status=KeyEvaluation.Status.COMPLETED).order_by()
    counts = dict(open_.values("status").annotate(n=Count("pk")).values_list("status", "n"))
    if not counts:
        return ""
    labels = dict(KeyEvaluation.Status.choices)
    detail = "，".join(f"{labels[s]} {counts[s]} 项" for s in KeyEvaluation.Status.values if s in counts)
    return f"评价计划中还有 {sum(counts.values())} 项评价尚未完成（{detail}），全部完成后才能办结计划。"


def _all_completed(plan: EvaluationPlan, actor) -> None:
    message = open_evaluations_message(plan)
    if message:
        raise ValidationError(message)


PLAN_FLOWS = {
    kind: Workflow(
        [
            Transition("issue", frozenset({PS.DRAFT}), PS.ISSUED, manage_action(kind), "下达计划", _has_evaluations),
            Transition("close", frozenset({PS.ISSUED}), PS.CLOSED, manage_action(kind), "办结计划", _all_completed),
        ]
    )
    for kind in PK.values
}


def plan_issue(*, actor, plan: EvaluationPlan) -> EvaluationPlan:
    """Draft → issued: the evaluations can start; the list of funds is fixed from now on."""
    return PLAN_FLOWS[plan.kind].apply(plan, name="issue", actor=actor, fields={"issued_at": timezone.now()})


def plan_close(*, actor, plan: EvaluationPlan, comment: str = "") -> EvaluationPlan:
    """Issued → closed (年终办结): only once every evaluation in the plan is completed; the
    refusal names how many are not (by status). Audited as a transition with ``comment``."""
    comment = (comment or "").strip()
    if len(comment) > 500:
        raise ValidationError({"comment": "办结说明不能超过 500 个字。"})
    return PLAN_FLOWS[plan.kind].apply(plan, name="close", actor=actor, comment=comment or "年终办结")
