"""Writes on 事前绩效评估: the unit assesses five dimensions, finance reviews (optionally with experts).

Every function is keyword-only, transactional, permission-checked and audited. State changes go
through ``ASSESSMENT_FLOW`` (one table); completed assessments are immutable.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from apps.accounts.roles import Role
from apps.agencies import services as agency_services
from apps.agencies.models import Agency, Expert
from apps.core import audit, permissions
from apps.core.workflow import Transition, Workflow
from apps.funds.models import SpecialFund

from .models import DIMENSIONS, Conclusion, ExAnteAssessment, ExpertOpinion

S = ExAnteAssessment.Status

DIMENSION_FIELDS = [name for name, _ in DIMENSIONS]
DIMENSION_LABELS = dict(DIMENSIONS)
MIN_DIMENSION_LENGTH = 20  # characters of analysis per dimension before the unit may submit
EDITABLE_STATES = frozenset({S.DRAFT, S.RETURNED})
OPEN_REVIEW_STATES = frozenset({S.SUBMITTED, S.REVIEWING})
VIEW_PERM = "assessments.view_exanteassessment"


def missing_dimensions(assessment: ExAnteAssessment) -> list[str]:
    """Labels of the dimensions whose analysis is empty or shorter than the minimum."""
    return [
        label for name, label in DIMENSIONS if len((getattr(assessment, name) or "").strip()) < MIN_DIMENSION_LENGTH
    ]


def _dimensions_complete(assessment: ExAnteAssessment, actor) -> None:
    errors = {}
    for name, label in DIMENSIONS:
        length = len((getattr(assessment, name) or "").strip())
        if length < MIN_DIMENSION_LENGTH:
            errors[name] = (
                f"“{label}”尚未填写，不能提交。"
                if length == 0
                else f"“{label}”的分析不足 {MIN_DIMENSION_LENGTH} 个字（现有 {length} 个字），不能提交。"
            )
    if errors:
        raise ValidationError(errors)


ASSESSMENT_FLOW = Workflow(
    [
        Transition("submit", frozenset({S.DRAFT, S.RETURNED}), S.SUBMITTED, "assessment.submit", "提交财政评审",
                   _dimensions_complete),
        Transition("assign_experts", frozenset({S.SUBMITTED}), S.REVIEWING, "assessment.review", "指派评审专家"),
        Transition("complete", OPEN_REVIEW_STATES, S.COMPLETED, "assessment.review", "作出评估结论"),
        Transition("return", OPEN_REVIEW_STATES, S.RETURNED, "assessment.review", "退回修改", comment_required=True),
    ]
)  # fmt: skip


def _state_error(assessment: ExAnteAssessment, what: str) -> ValidationError:
    return ValidationError(
        f"该评估当前状态为“{assessment.get_status_display()}”，不能{what}。可能已被他人处理，请刷新页面后查看。"
    )


def _precheck(actor, assessment: ExAnteAssessment, name: str) -> None:
    """Permission and state of a transition on the locked row, before its own inputs are validated:
    a wrong role gets 403 and a stale page the state message first (``apply`` checks again)."""
    transition = ASSESSMENT_FLOW.transitions[name]
    if not permissions.can(actor, transition.action, assessment):
        raise PermissionDenied(f"您无权对该事前绩效评估执行“{transition.label}”。")
    if assessment.status not in transition.sources:
        raise _state_error(assessment, f"执行“{transition.label}”")


def _lock(assessment: ExAnteAssessment) -> ExAnteAssessment:
    return ExAnteAssessment.objects.select_for_update(of=("self",)).select_related("fund").get(pk=assessment.pk)


@transaction.atomic
def assessment_create(*, actor, fund: SpecialFund) -> ExAnteAssessment:
    """The unit starts an assessment of ``fund``; one open (not completed) assessment per fund."""
    if not permissions.can(actor, "assessment.edit", fund):
        raise PermissionDenied("您无权为该专项资金发起事前绩效评估。")
    # Lock the fund (only its row): two clicks on 发起 cannot both create an open assessment.
    fund = SpecialFund.objects.select_for_update(of=("self",)).select_related("fiscal_year").get(pk=fund.pk)
    if fund.fiscal_year.is_closed:
        raise ValidationError(f"{fund.fiscal_year}已结账，不能再发起事前绩效评估。")
    open_one = ExAnteAssessment.objects.filter(fund=fund).exclude(status=S.COMPLETED).first()
    if open_one is not None:
        raise ValidationError(
            f"专项资金“{fund.name}”已有一份未完成的事前绩效评估（{open_one.get_status_display()}），"
            "请在原评估上继续办理，不能重复发起。"
        )
    assessment = ExAnteAssessment(fund=fund, organization=fund.organization, status=S.DRAFT)
    assessment.full_clean()
    try:
        with transaction.atomic():
            assessment.save()
    except IntegrityError:  # a concurrent start won the race
        raise ValidationError(f"专项资金“{fund.name}”已有一份未完成的事前绩效评估，不能重复发起。")
    audit.record(
        audit.Kind.CREATE,
        actor=actor,
        obj=assessment,
        changes={"fund": {"from": None, "to": str(fund)}, "status": {"from": None, "to": S.DRAFT}},
    )
    return assessment


@transaction.atomic
def assessment_update(*, actor, assessment: ExAnteAssessment, **dimension_texts: str) -> ExAnteAssessment:
    """The unit writes its analysis of the five dimensions (only while 单位评估中 or 已退回)."""
    unknown = set(dimension_texts) - set(DIMENSION_FIELDS)
    if unknown:
        raise ValidationError(f"未知的评估内容：{'、'.join(sorted(unknown))}。")
    locked = _lock(assessment)
    if not permissions.can(actor, "assessment.edit", locked):
        raise PermissionDenied("您无权修改该事前绩效评估。")
    if locked.status == S.COMPLETED:
        raise ValidationError("该事前绩效评估已完成，结论已作出，不能再修改。")
    if locked.status not in EDITABLE_STATES:
        raise ValidationError(
            f"该评估当前状态为“{locked.get_status_display()}”，不能修改；如需修改，请由财政部门退回后再改。"
        )
    fields = list(dimension_texts)
    before = audit.snapshot(locked, fields)
    for name, value in dimension_texts.items():
        setattr(locked, name, (value or "").strip())
    locked.full_clean()
    changes = audit.diff(before, audit.snapshot(locked, fields))
    if changes:
        locked.save(update_fields=[*changes, "updated_at"])
        audit.record(audit.Kind.UPDATE, actor=actor, obj=locked, changes=changes)
    return locked


def assessment_submit(*, actor, assessment: ExAnteAssessment) -> ExAnteAssessment:
    """The department submits the assessment to finance; every dimension must be analysed."""
    return ASSESSMENT_FLOW.apply(assessment, name="submit", actor=actor)


def _is_expert(user) -> bool:
    return user.is_active and Role.EXPERT in user.role_codes


@transaction.atomic
def assessment_assign_experts(*, actor, assessment: ExAnteAssessment, experts: Iterable) -> ExAnteAssessment:
    """Finance assigns experts; they may then see this assessment (and only it) and give opinions.

    The first assignment moves 待财政评审 → 专家评审中; more experts may be added while reviewing.
    """
    locked = _lock(assessment)
    transition = ASSESSMENT_FLOW.transitions["assign_experts"]
    if not permissions.can(actor, transition.action, locked):
        raise PermissionDenied("您无权为该事前绩效评估指派评审专家。")
    if locked.status not in OPEN_REVIEW_STATES:
        raise _state_error(locked, "指派评审专家")
    experts = list({e.pk: e for e in experts}.values())
    if not experts:
        raise ValidationError({"experts": "请至少选择一位评审专家。"})
    not_experts = [str(e) for e in experts if not _is_expert(e)]
    if not_experts:
        raise ValidationError({"experts": f"以下人员不是在用的评审专家，不能指派：{'、'.join(not_experts)}。"})
    assigned = set(locked.expert_opinions.values_list("expert_id", flat=True))
    new = [e for e in experts if e.pk not in assigned]
    if not new and locked.status == S.REVIEWING:
        raise ValidationError({"experts": "所选专家均已指派，无需重复指派。"})
    # 回避: an expert registered in the registry may not review a fund of a department they are tied to.
    profiles = list(Expert.objects.filter(user__in=new).select_related("employer_organization"))
    agency_services.refuse_conflicts(department=locked.fund.department, agency=None, experts=profiles)
    for expert in new:
        opinion = ExpertOpinion(assessment=locked, expert=expert)
        opinion.full_clean()
        opinion.save()
        assign_perm(VIEW_PERM, expert, locked)
    names = [str(e) for e in new]
    if new:
        audit.record(audit.Kind.UPDATE, actor=actor, obj=locked, changes={"experts": {"from": [], "to": names}})
    if locked.status == S.SUBMITTED:
        comment = f"指派评审专家：{'、'.join(str(e) for e in experts)}"
        locked = ASSESSMENT_FLOW.apply(locked, name="assign_experts", actor=actor, comment=comment)
    return locked


def _entitled(assessment: ExAnteAssessment) -> set[int]:
    """Users who should see the assessment by assignment: its agency's staff and its experts."""
    staff = set(agency_services.agency_staff(assessment.agency).values_list("pk", flat=True))
    return staff | set(assessment.expert_opinions.values_list("expert_id", flat=True))


@transaction.atomic
def assessment_assign_agency(*, actor, assessment: ExAnteAssessment, agency: Agency) -> ExAnteAssessment:
    """Finance entrusts a third-party agency with the review (replacing any earlier one); its staff
    may then see this assessment. Refused when the agency is suspended or tied to the department."""
    locked = _lock(assessment)
    if not permissions.can(actor, "assessment.review", locked):
        raise PermissionDenied("您无权为该事前绩效评估委托第三方机构。")
    if locked.status == S.COMPLETED:
        raise ValidationError("该事前绩效评估已完成，不能再委托第三方机构。")
    if agency is None:
        raise ValidationError({"agency": "请选择要委托的第三方机构。"})
    agency = Agency.objects.get(pk=agency.pk)
    if agency.pk == locked.agency_id:
        raise ValidationError({"agency": f"已委托“{agency.name}”，无需重复委托。"})
    agency_services.refuse_conflicts(department=locked.fund.department, agency=agency, experts=[])
    before = _entitled(locked)
    previous = locked.agency.name if locked.agency_id else None
    locked.agency = agency
    locked.save(update_fields=["agency", "updated_at"])
    agency_services.sync_grants(VIEW_PERM, locked, before, _entitled(locked))
    audit.record(
        audit.Kind.UPDATE,
        actor=actor,
        obj=locked,
        changes={"agency": {"from": previous, "to": agency.name}},
        comment="委托第三方机构",
    )
    return locked


@transaction.atomic
def assessment_unassign_agency(*, actor, assessment: ExAnteAssessment) -> ExAnteAssessment:
    """Withdraw the agency; its staff no longer see the assessment (assigned experts still do)."""
    locked = _lock(assessment)
    if not permissions.can(actor, "assessment.review", locked):
        raise PermissionDenied("您无权撤销该事前绩效评估的委托。")
    if locked.status == S.COMPLETED:
        raise ValidationError("该事前绩效评估已完成，委托记录须保留，不能撤销。")
    if locked.agency_id is None:
        raise ValidationError({"agency": "该事前绩效评估尚未委托第三方机构。"})
    before = _entitled(locked)
    previous = locked.agency.name
    locked.agency = None
    locked.save(update_fields=["agency", "updated_at"])
    agency_services.sync_grants(VIEW_PERM, locked, before, _entitled(locked))
    audit.record(
        audit.Kind.UPDATE,
        actor=actor,
        obj=locked,
        changes={"agency": {"from": previous, "to": None}},
        comment="撤销委托第三方机构",
    )
    return locked


@transaction.atomic
def expert_opinion_submit(
    *, actor, assessment: ExAnteAssessment, opinion: str, recommended_conclusion: str = ""
) -> ExpertOpinion:
    """An assigned expert gives (or revises) their opinion while the assessment is under review."""
    locked = _lock(assessment)
    if not permissions.can(actor, "assessment.opine", locked):
        raise PermissionDenied("您不是该事前绩效评估的评审专家，不能提交意见。")
    row = ExpertOpinion.objects.select_for_update().filter(assessment=locked, expert=actor).first()
    if row is None:
        raise PermissionDenied("您不是该事前绩效评估的评审专家，不能提交意见。")
    if locked.status == S.COMPLETED:
        raise ValidationError("该事前绩效评估已完成，不能再提交或修改专家意见。")
    if locked.status != S.REVIEWING:
        raise _state_error(locked, "提交专家意见")
    opinion = (opinion or "").strip()
    if not opinion:
        raise ValidationError({"opinion": "请填写专家意见。"})
    if recommended_conclusion and recommended_conclusion not in Conclusion.values:
        raise ValidationError({"recommended_conclusion": "建议结论只能是“予以支持”“调整后支持”或“不予支持”。"})
    fields = ["opinion", "recommended_conclusion"]
    before = audit.snapshot(row, fields)
    first_time = row.submitted_at is None
    row.opinion, row.recommended_conclusion, row.submitted_at = opinion, recommended_conclusion, timezone.now()
    row.full_clean()
    row.save(update_fields=[*fields, "submitted_at"])
    audit.record(
        audit.Kind.UPDATE,
        actor=actor,
        obj=row,
        changes=audit.diff(before, audit.snapshot(row, fields)),
        comment="提交专家意见" if first_time else "修改专家意见",
    )
    return row


@transaction.atomic
def assessment_complete(
    *, actor, assessment: ExAnteAssessment, conclusion: str, finance_opinion: str
) -> ExAnteAssessment:
    """Finance gives the conclusion (予以支持 / 调整后支持 / 不予支持) with its opinion."""
    locked = _lock(assessment)
    _precheck(actor, locked, "complete")
    errors = {}
    if conclusion not in Conclusion.values:
        errors["conclusion"] = "请选择评估结论（予以支持、调整后支持或不予支持）。"
    finance_opinion = (finance_opinion or "").strip()
    if not finance_opinion:
        errors["finance_opinion"] = "请填写财政评审意见。"
    if errors:
        raise ValidationError(errors)
    return ASSESSMENT_FLOW.apply(
        locked,
        name="complete",
        actor=actor,
        comment=f"评估结论：{Conclusion(conclusion).label}",
        fields={
            "conclusion": conclusion,
            "finance_opinion": finance_opinion,
            "reviewed_by": actor,
            "completed_at": timezone.now(),
        },
    )


def assessment_return(*, actor, assessment: ExAnteAssessment, comment: str) -> ExAnteAssessment:
    """Finance returns the assessment to the unit for revision, saying why."""
    return ASSESSMENT_FLOW.apply(assessment, name="return", actor=actor, comment=(comment or "").strip())
