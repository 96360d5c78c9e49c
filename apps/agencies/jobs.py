"""The two kinds of job an agency or an expert is entrusted with — a key evaluation (重点评价) and an
ex-ante assessment (事前绩效评估) — described once, so that the pages, the API and the services write
assign / withdraw / appraise a single time and ask the job's kind for what differs: its model, the
action that assigns, the evaluated department, its page, the current experts, how to grant/revoke.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from apps.assessments.models import ExAnteAssessment
from apps.core import permissions
from apps.evaluations.models import KeyEvaluation

from . import selectors


@dataclass(frozen=True)
class JobKind:
    code: str  # "key_evaluation" | "assessment": API kind, AgencyAppraisal field, URL-name suffix
    label: str
    model: type
    view_action: str
    assign_action: str  # who may entrust an agency / assign experts (finance)
    department_path: str  # ORM path of the evaluated department
    year_path: str
    related: tuple[str, ...]  # select_related for one job's pages

    # --- reads ---------------------------------------------------------------------------------

    def queryset(self, user, action: str | None = None):
        return self.model.objects.restrict(user, action or self.assign_action).select_related(*self.related)

    def department(self, job):
        obj = job
        for part in self.department_path.split("__"):
            obj = getattr(obj, part)
        return obj

    def department_id(self, job) -> int:
        return self.department(job).pk

    def fiscal_year(self, job) -> int:
        head, tail = self.year_path.split("__")
        return getattr(getattr(job, head), f"{tail}_id")

    def is_completed(self, job) -> bool:
        return job.status == self.model.Status.COMPLETED

    def closed_message(self, job) -> str:
        return f"该{self.label}已完成，委托记录不能再变更。" if self.is_completed(job) else ""

    def detail_url(self, pk: int) -> str | None:
        raise NotImplementedError

    def url(self, name: str, pk: int) -> str:
        """``agencies:<name>_<code>`` — assign, unassign, appraise."""
        return reverse(f"agencies:{name}_{self.code}", args=[pk])

    def experts(self, job) -> list[dict]:
        """The assigned experts: {"id": Expert id or None, "name", "user", "assigned_at"}."""
        raise NotImplementedError

    def may_assign(self, user, job) -> bool:
        return not self.is_completed(job) and permissions.can(user, self.assign_action, job)

    def may_appraise(self, user, job) -> bool:
        return (
            self.is_completed(job)
            and not getattr(job, "appraised", False)
            and permissions.can(user, "appraisal.manage", job)
        )

    def row(self, job, **extra) -> dict:
        """The job as a plain row (API job lists)."""
        department = self.department(job)
        return {
            "kind": self.code,
            "id": job.pk,
            "name": str(job),
            "department": department.pk,
            "department_name": department.name,
            "fiscal_year": self.fiscal_year(job),
            "status": job.status,
            "status_display": job.get_status_display(),
            **extra,
        }

    # --- writes (each one a service) ---------------------------------------------------------

    def assign(self, *, actor, job, agency=None, experts=()):
        raise NotImplementedError

    def withdraw(self, *, actor, job, agency: bool = False, experts=()):
        raise NotImplementedError


class _KeyEvaluationJob(JobKind):
    def detail_url(self, pk: int) -> str | None:
        return selectors.key_evaluation_url(pk)

    def experts(self, job) -> list[dict]:
        return [
            {"id": r.expert_id, "name": r.expert.name, "user": r.expert.user_id, "assigned_at": r.assigned_at}
            for r in selectors.key_evaluation_experts(job)
        ]

    def assign(self, *, actor, job, agency=None, experts=()):
        from . import services

        return services.key_evaluation_assign(actor=actor, evaluation=job, agency=agency, experts=experts)

    def withdraw(self, *, actor, job, agency: bool = False, experts=()):
        from . import services

        return services.key_evaluation_unassign(actor=actor, evaluation=job, agency=agency, experts=experts)


class _AssessmentJob(JobKind):
    def detail_url(self, pk: int) -> str | None:
        return reverse("assessments:assessment_detail", args=[pk])

    def experts(self, job) -> list[dict]:
        return [
            {
                "id": profile.pk if profile else None,
                "name": profile.name if profile else opinion.expert.display_name,
                "user": opinion.expert_id,
                "assigned_at": opinion.assigned_at,
            }
            for opinion, profile in selectors.assessment_expert_profiles(job)
        ]

    def assign(self, *, actor, job, agency=None, experts=()):
        from . import services

        return services.assessment_assign(actor=actor, assessment=job, agency=agency, experts=experts)

    def withdraw(self, *, actor, job, agency: bool = False, experts=()):
        """Only the agency can be withdrawn: an assigned expert must give an opinion."""
        from apps.assessments import services as assessment_services

        return assessment_services.assessment_unassign_agency(actor=actor, assessment=job)


KEY_EVALUATION = _KeyEvaluationJob(
    code="key_evaluation",
    label="重点评价",
    model=KeyEvaluation,
    view_action="evaluation.view",
    assign_action="evaluation.assign",
    department_path="department",
    year_path="plan__fiscal_year",
    related=("plan__fiscal_year", "fund", "department", "agency"),
)
ASSESSMENT = _AssessmentJob(
    code="assessment",
    label="事前绩效评估",
    model=ExAnteAssessment,
    view_action="assessment.view",
    assign_action="assessment.review",
    department_path="fund__department",
    year_path="fund__fiscal_year",
    related=("fund__department", "fund__fiscal_year", "agency"),
)
JOB_KINDS = (KEY_EVALUATION, ASSESSMENT)


def kind_of(job) -> JobKind:
    return KEY_EVALUATION if isinstance(job, KeyEvaluation) else ASSESSMENT
