"""Reads of key-evaluation plans and key evaluations shared by the pages, the API and the to-do list.

Every read starts from ``restrict(user, action)``; each function runs a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet

from apps.funds.models import PolicyTag, SpecialFund
from apps.orgs.models import Organization
from apps.targets.models import PerformanceTarget, TargetStatus

from . import plans
from .key_services import DIMENSION_LABELS, DIMENSIONS, ZERO
from .models import EvaluationPlan, KeyEvaluation, KeyEvaluationExpert, KeyEvaluationLine

KS = KeyEvaluation.Status


# --- plans -----------------------------------------------------------------------------------


def plan_list(*, user, fiscal_year: int | None = None) -> QuerySet:
    """Plans the user may see, with their evaluation counts by state."""
    qs = EvaluationPlan.objects.restrict(user, "plan.view")
    if fiscal_year is not None:
        qs = qs.filter(fiscal_year_id=fiscal_year)
    return (
        qs.select_related("organization__region", "created_by")
        .annotate(
            evaluation_count=Count("evaluations"),
            fund_count=Count("evaluations", filter=Q(evaluations__subject=KeyEvaluation.Subject.FUND)),
            department_count=Count("evaluations", filter=Q(evaluations__subject=KeyEvaluation.Subject.DEPARTMENT)),
            completed_count=Count("evaluations", filter=Q(evaluations__status=KS.COMPLETED)),
        )
        .order_by("-fiscal_year_id", "organization__region__sort_order", "kind", "organization__path")
    )


def plan_evaluations(plan: EvaluationPlan) -> QuerySet:
    """The plan's evaluations (funds first, then departments) with what the plan page shows."""
    return (
        plan.evaluations.select_related("fund", "department", "agency")
        .prefetch_related(Prefetch("fund__policy_tags", queryset=PolicyTag.objects.order_by("sort_order", "name")))
        .order_by("subject", "fund__code", "department__path")
    )


SORTS = {
    "code": ("code",),
    "amount": ("-fiscal_amount", "code"),
    "department": ("department__path", "code"),
}


def candidate_funds(
    plan: EvaluationPlan, *, q: str = "", department=None, tag=None, due_only: bool = False, coverage=None, sort="code"
) -> QuerySet:
    """Funds that could still be added to ``plan`` (the universe minus the funds already in it)."""
    funds = plans.eligible_funds(plan).exclude(key_evaluations__plan=plan)
    if q:
        funds = funds.filter(Q(name__icontains=q) | Q(code__icontains=q))
    if department is not None:
        funds = funds.filter(department=department)
    if tag is not None:
        funds = funds.filter(policy_tags=tag)
    if due_only and coverage is not None:
        funds = funds.filter(pk__in=coverage.missing_ids)
    if sort == "tag":
        # Funds carrying a policy tag (十五个攻势) first: finance key evaluations lean toward them.
        funds = funds.annotate(tag_count=Count("policy_tags")).order_by("-tag_count", "code")
    else:
        funds = funds.order_by(*SORTS.get(sort, SORTS["code"]))
    return funds.select_related("department").prefetch_related(
        Prefetch("policy_tags", queryset=PolicyTag.objects.order_by("sort_order", "name"))
    )


def picker_departments(plan: EvaluationPlan) -> QuerySet:
    if plan.kind == EvaluationPlan.Kind.DEPARTMENT:
        return Organization.objects.filter(pk=plan.organization_id)
    return Organization.objects.filter(
        kind=Organization.Kind.DEPARTMENT, region_id=plan.organization.region_id, is_active=True
    ).order_by("path")


def department_candidates(plan: EvaluationPlan) -> list[Organization]:
    """Departments of the region with an approved department target of the year, not yet in the plan."""
    if plan.kind != EvaluationPlan.Kind.FINANCE:
        return []
    with_target = PerformanceTarget.objects.filter(
        kind=PerformanceTarget.Kind.DEPARTMENT, fiscal_year_id=plan.fiscal_year_id, status=TargetStatus.APPROVED
    ).values("organization_id")
    taken = plan.evaluations.filter(subject=KeyEvaluation.Subject.DEPARTMENT).values("department_id")
    return list(
        Organization.objects.filter(
            kind=Organization.Kind.DEPARTMENT, region_id=plan.organization.region_id, pk__in=with_target
        )
        .exclude(pk__in=taken)
        .order_by("path")
    )


# --- key evaluations -------------------------------------------------------------------------


def key_list(
    *, user, fiscal_year: int | None = None, status: str = "", kind: str = "", subject: str = "", q: str = ""
) -> QuerySet:
    qs = KeyEvaluation.objects.restrict(user, "evaluation.view").select_related(
        "plan__organization", "fund", "department", "agency"
    )
    if fiscal_year is not None:
        qs = qs.filter(plan__fiscal_year_id=fiscal_year)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(plan__kind=kind)
    if subject:
        qs = qs.filter(subject=subject)
    if q:
        qs = qs.filter(Q(fund__name__icontains=q) | Q(fund__code__icontains=q) | Q(department__name__icontains=q))
    return qs.order_by("-plan__fiscal_year_id", "plan__kind", "subject", "fund__code", "department__path", "pk")


def evaluation_queryset(user, action: str = "evaluation.view") -> QuerySet:
    return KeyEvaluation.objects.restrict(user, action).select_related(
        "plan__organization__region", "plan__fiscal_year", "fund__organization", "department__region", "agency",
        "target",
    )  # fmt: skip


def experts_of(evaluation: KeyEvaluation) -> list[KeyEvaluationExpert]:
    return list(evaluation.expert_assignments.select_related("expert").order_by("assigned_at", "pk"))


@dataclass
class DimensionGroup:
    dimension: str
    label: str
    weight: Decimal
    lines: list[KeyEvaluationLine] = field(default_factory=list)

    @property
    def max_sum(self) -> Decimal:
        return sum((line.max_points for line in self.lines), ZERO)

    @property
    def points_sum(self) -> Decimal:
        return sum((line.points for line in self.lines if line.points is not None), ZERO)

    @property
    def consistent(self) -> bool:
        return self.max_sum == self.weight

    @property
    def scored(self) -> bool:
        return all(line.points is not None for line in self.lines)


def frame_groups(evaluation: KeyEvaluation, lines=None) -> list[DimensionGroup]:
    """The frame by dimension, in the order 决策 / 过程 / 产出 / 效益, with weights and sums."""
    if lines is None:
        lines = KeyEvaluationLine.objects.filter(evaluation=evaluation).order_by("sort_order", "pk")
    groups = {d: DimensionGroup(d, DIMENSION_LABELS[d], evaluation.weights[d]) for d in DIMENSIONS}
    for line in lines:
        groups[line.dimension].lines.append(line)
    return list(groups.values())


def funds_in_plan_scope(user, ids) -> QuerySet:
    """The funds (by id) the user may see, to be added to a plan (the service checks the rest)."""
    return SpecialFund.objects.restrict(user, "fund.view").filter(pk__in=ids)
