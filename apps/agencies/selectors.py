"""Reads of the registry, assignments and appraisals shared by the pages and the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Avg, Count, Exists, OuterRef, Prefetch, Q, Subquery
from django.urls import NoReverseMatch, reverse

from apps.assessments.models import ExAnteAssessment, ExpertOpinion
from apps.core import permissions
from apps.core.permissions import Scope
from apps.evaluations.models import KeyEvaluation, KeyEvaluationExpert
from apps.orgs.models import Organization

from .conflicts import conflict_map
from .models import Agency, AgencyAppraisal, AppraisalScore, ConflictTie, Expert

K = Organization.Kind


# --- registry --------------------------------------------------------------------------------------


def visible_appraisals(user):
    return AgencyAppraisal.objects.restrict(user, "appraisal.view")


def agency_list(*, user, q: str = "", status: str = "", action: str = "registry.view"):
    """Agencies in the registry with the number and average total of the appraisals the user may see."""
    appraisals = Q(appraisals__in=visible_appraisals(user).values("pk"))
    agencies = (
        Agency.objects.restrict(user, action)
        .select_related("registered_by", "organization")
        .annotate(
            appraisal_count=Count("appraisals", filter=appraisals),
            appraisal_average=Avg("appraisals__total", filter=appraisals),
        )
        .order_by("name", "pk")
    )
    if q:
        agencies = agencies.filter(
            Q(name__icontains=q)
            | Q(credit_code__icontains=q)
            | Q(qualifications__icontains=q)
            | Q(contact_person__icontains=q)
        )
    if status:
        agencies = agencies.filter(status=status)
    return agencies


def agency_jobs(*, user, agency: Agency) -> dict:
    """The agency's job history the user may see: key evaluations and ex-ante assessments."""
    key = (
        KeyEvaluation.objects.restrict(user, "evaluation.view")
        .filter(agency=agency)
        .select_related("plan__fiscal_year", "fund", "department")
        .annotate(appraised=Exists(AgencyAppraisal.objects.filter(key_evaluation=OuterRef("pk"))))
        .order_by("-plan__fiscal_year", "department__path", "pk")
    )
    assessments = (
        ExAnteAssessment.objects.restrict(user, "assessment.view")
        .filter(agency=agency)
        .select_related("fund__department", "fund__fiscal_year")
        .annotate(appraised=Exists(AgencyAppraisal.objects.filter(assessment=OuterRef("pk"))))
        .order_by("-created_at", "-pk")
    )
    return {"key_evaluations": list(key), "assessments": list(assessments)}


def appraisal_list(*, user, agency: Agency | None = None):
    appraisals = visible_appraisals(user).select_related(
        "agency",
        "organization",
        "appraised_by",
        "key_evaluation__fund",
        "key_evaluation__department",
        "key_evaluation__plan",
        "assessment__fund",
    )
    if agency is not None:
        appraisals = appraisals.filter(agency=agency)
    return appraisals.order_by("-appraised_at", "-pk")


def appraisal_detail_queryset(user):
    scores = AppraisalScore.objects.select_related("criterion").order_by("criterion__sort_order", "criterion_id")
    return appraisal_list(user=user).prefetch_related(Prefetch("scores", queryset=scores))


def expert_list(*, user, q: str = "", status: str = "", action: str = "registry.view"):
    experts = (
        Expert.objects.restrict(user, action)
        .select_related("registered_by", "employer_organization", "user")
        .order_by("name", "pk")
    )
    if q:
        experts = experts.filter(
            Q(name__icontains=q) | Q(fields__icontains=q) | Q(employer__icontains=q) | Q(title__icontains=q)
        )
    if status:
        experts = experts.filter(status=status)
    return experts


def ties_of(*, agency: Agency | None = None, expert: Expert | None = None):
    ties = ConflictTie.objects.select_related("organization", "relation").order_by("relation__sort_order", "pk")
    return ties.filter(agency=agency) if agency is not None else ties.filter(expert=expert)


def visible_ties(user, action: str = "registry.view"):
    """Ties of the agencies and experts the user may ``action`` (ties follow their subject's scope)."""
    return ConflictTie.objects.filter(
        Q(agency__in=Agency.objects.restrict(user, action).values("pk"))
        | Q(expert__in=Expert.objects.restrict(user, action).values("pk"))
    )


def tie_organizations(user):
    """Departments and units a tie may name (those the user may see)."""
    return (
        Organization.objects.restrict(user, "org.view")
        .filter(kind__in=[K.DEPARTMENT, K.UNIT], is_active=True)
        .select_related("region")
        .order_by("region__sort_order", "path")
    )


def employer_organizations(user):
    return (
        Organization.objects.restrict(user, "org.view")
        .filter(is_active=True)
        .select_related("region")
        .order_by("region__sort_order", "path")
    )


# --- assignment candidates -------------------------------------------------------------------------


@dataclass
class Candidate:
    obj: Agency | Expert
    reasons: list[str] = field(default_factory=list)
    assigned: bool = False

    @property
    def refused(self) -> bool:
        return bool(self.reasons)


def assignment_candidates(
    *, user, department: Organization, q: str = "", assigned_agency_id=None, assigned_expert_ids=()
) -> tuple[list[Candidate], list[Candidate]]:
    """Every agency and (searched) expert the user may see, each with its conflict reasons."""
    agencies = list(
        Agency.objects.restrict(user, "registry.view").select_related("organization").order_by("status", "name")
    )
    experts = Expert.objects.restrict(user, "registry.view").select_related("employer_organization", "user")
    if q:
        experts = experts.filter(
            Q(name__icontains=q) | Q(fields__icontains=q) | Q(employer__icontains=q) | Q(title__icontains=q)
        )
    experts = list(experts.order_by("status", "name", "pk")[:200])
    by_agency, by_expert = conflict_map(department=department, agencies=agencies, experts=experts)
    assigned_experts = set(assigned_expert_ids)
    return (
        [Candidate(a, by_agency.get(a.pk, []), a.pk == assigned_agency_id) for a in agencies],
        [Candidate(e, by_expert.get(e.pk, []), e.pk in assigned_experts) for e in experts],
    )


def key_evaluation_experts(evaluation: KeyEvaluation) -> list[KeyEvaluationExpert]:
    return list(
        evaluation.expert_assignments.select_related("expert__user", "assigned_by").order_by("assigned_at", "pk")
    )


def assessment_expert_profiles(assessment: ExAnteAssessment) -> list[tuple]:
    """(opinion, Expert profile or None) of the experts assigned to an assessment."""
    opinions = list(assessment.expert_opinions.select_related("expert").order_by("assigned_at", "pk"))
    profiles = Expert.objects.in_bulk([o.expert_id for o in opinions], field_name="user_id")
    return [(o, profiles.get(o.expert_id)) for o in opinions]


# --- what an agency's staff or an expert is assigned to --------------------------------------------


def object_only(user, action: str) -> bool:
    """True when the user's roles reach ``action`` only through assignments (agency staff, experts)."""
    return permissions.user_scopes(user, action) == {Scope.OBJECT}


def my_key_evaluations(user):
    expert_of = Subquery(
        KeyEvaluationExpert.objects.filter(evaluation=OuterRef("pk"), expert__user=user).values("pk")[:1]
    )
    return (
        KeyEvaluation.objects.restrict(user, "evaluation.view")
        .select_related("plan__fiscal_year", "fund", "department", "agency")
        .annotate(as_expert=Exists(expert_of))
        .order_by("-plan__fiscal_year", "status", "department__path", "pk")
    )


def my_assessments(user):
    return (
        ExAnteAssessment.objects.restrict(user, "assessment.view")
        .select_related("fund__department", "fund__fiscal_year", "agency")
        .annotate(as_expert=Exists(ExpertOpinion.objects.filter(assessment=OuterRef("pk"), expert=user)))
        .order_by("-created_at", "-pk")
    )


# --- links to pages of other parts -----------------------------------------------------------------

KEY_EVALUATION_DETAIL_NAMES = ("evaluations:key_detail", "evaluations:key_evaluation_detail")


def key_evaluation_url(pk: int) -> str | None:
    """The key-evaluation page (built by the key-evaluation part), when it exists."""
    for name in KEY_EVALUATION_DETAIL_NAMES:
        try:
            return reverse(name, args=[pk])
        except NoReverseMatch:
            continue
    return None


def average(values) -> Decimal | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return (sum(values, Decimal("0")) / len(values)).quantize(Decimal("0.01"))
