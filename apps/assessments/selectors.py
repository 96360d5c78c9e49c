"""Reads of 事前绩效评估 shared by the pages, the API and the budget gate."""

from django.db.models import Prefetch, Q

from apps.accounts.models import User
from apps.accounts.roles import Role

from .models import ExAnteAssessment, ExpertOpinion

S = ExAnteAssessment.Status


def _base(user):
    return ExAnteAssessment.objects.restrict(user, "assessment.view").select_related(
        "fund__fiscal_year", "fund__department", "fund__organization", "organization"
    )


def assessment_list(*, user, fiscal_year=None, status: str = "", q: str = ""):
    """Assessments the user may see (an expert: only those assigned to them), newest first."""
    assessments = _base(user)
    if fiscal_year:
        assessments = assessments.filter(fund__fiscal_year=fiscal_year)
    if status:
        assessments = assessments.filter(status=status)
    if q:
        assessments = assessments.filter(Q(fund__name__icontains=q) | Q(fund__code__icontains=q))
    return assessments.order_by("-created_at", "-pk")


def opinions_visible_to(user):
    """Expert opinions this user may read on an assessment they can see: an expert only their own
    (reviews are independent); everyone else who sees the assessment, all of them."""
    opinions = ExpertOpinion.objects.select_related("expert").order_by("assigned_at", "pk")
    if Role.EXPERT in user.role_codes:
        opinions = opinions.filter(expert=user)
    return opinions


def assessment_detail_queryset(user):
    return _base(user).select_related("reviewed_by", "fund__organization__region")


def assessment_opinions(*, user, assessment: ExAnteAssessment) -> list[ExpertOpinion]:
    return list(opinions_visible_to(user).filter(assessment=assessment))


def assessments_for_fund(*, user, fund):
    """The fund's assessments the user may see, newest first (the fund page's 事前评估 tab)."""
    return (
        ExAnteAssessment.objects.restrict(user, "assessment.view")
        .filter(fund=fund)
        .select_related("reviewed_by")
        .order_by("-created_at", "-pk")
    )


def latest_assessment(fund) -> ExAnteAssessment | None:
    """The fund's newest assessment whoever asks (the budget gate reads its status and conclusion)."""
    return ExAnteAssessment.objects.filter(fund=fund).order_by("-created_at", "-pk").first()


def open_assessment(fund) -> ExAnteAssessment | None:
    """The fund's assessment still in progress (at most one), if any."""
    return ExAnteAssessment.objects.filter(fund=fund).exclude(status=S.COMPLETED).first()


def assignable_experts(*, assessment: ExAnteAssessment | None = None):
    """Active users holding the expert role, minus those already assigned to ``assessment``."""
    experts = (
        User.objects.filter(groups__name=Role.EXPERT, is_active=True)
        .select_related("organization")
        .order_by("organization__name", "username")
        .distinct()
    )
    if assessment is not None:
        experts = experts.exclude(pk__in=assessment.expert_opinions.values("expert_id"))
    return experts


def with_opinions(queryset, *, user):
    """Prefetch the expert opinions the user may read (one extra query for any number of rows)."""
    return queryset.prefetch_related(
        Prefetch("expert_opinions", queryset=opinions_visible_to(user), to_attr="visible_opinions")
    )
