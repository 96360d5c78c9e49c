"""Review of the annual assessment (考核) after the draft is computed: finance adjusts a line only
with a reason (or scores a hand-scored item with its 评分说明 and 佐证), publishes the ranked 通报,
and may withdraw a published one to correct it.

Every write locks the assessment first (``select_for_update``), so an adjustment and a publish
cannot cross; each is audited. Totals, ranks and grades come from the engine
(``services_assessment.assessment_totals``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core import audit, permissions

from .models import AnnualAssessment, AssessmentAdjustment, AssessmentLine, Metric

CENT = Decimal("0.01")
S = AnnualAssessment.Status


def _totals(assessment: AnnualAssessment) -> None:
    from .services_assessment import assessment_totals

    assessment_totals(assessment)


def _require_manage(actor, assessment: AnnualAssessment) -> None:
    if not permissions.can(actor, "annual.manage", assessment):
        raise PermissionDenied("只有组织考核的财政部门可以调整得分、发布或撤回通报。")


def _lock(assessment_id: int) -> AnnualAssessment:
    return AnnualAssessment.objects.select_for_update().get(pk=assessment_id)


def _points(value, max_points: Decimal) -> Decimal:
    try:
        points = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({"points": ["得分应为数字。"]}) from None
    if not points.is_finite():
        raise ValidationError({"points": ["得分应为数字。"]})
    if points != points.quantize(CENT):
        raise ValidationError({"points": ["得分最多保留两位小数。"]})
    if points < 0 or points > max_points:
        raise ValidationError({"points": [f"得分应在 0 至 {max_points} 分之间（本项分值 {max_points} 分）。"]})
    return points.quantize(CENT)


def is_manual(line: AssessmentLine) -> bool:
    return line.item.metric == Metric.MANUAL


@transaction.atomic
def line_adjust(*, actor, line: AssessmentLine, points, reason: str, evidence: str = "") -> AssessmentLine:
    """Set a line's final points by hand (0 ≤ points ≤ the item's 分值) with a reason; audited.

    For a hand-scored item ``reason`` is the 评分说明 and ``evidence`` the 佐证. Submitting the same
    points, reason and evidence again changes nothing (a double click is harmless)."""
    assessment = _lock(line.item.assessment_id)
    _require_manage(actor, assessment)
    line = AssessmentLine.objects.select_for_update().select_related("item", "body__organization").get(pk=line.pk)
    if assessment.status != S.REVIEW:
        raise ValidationError(
            {"status": [f"考核当前为“{assessment.get_status_display()}”，只有待审定时可以调整得分。"]}
        )
    manual = is_manual(line)
    errors: dict[str, list[str]] = {}
    try:
        new = _points(points, line.item.max_points)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        new = None
    reason = (reason or "").strip()
    evidence = (evidence or "").strip()
    if not reason:
        errors["reason"] = ["请填写评分说明。" if manual else "请填写调整理由。"]
    if errors:
        raise ValidationError(errors)
    if line.adjusted and new == line.points and reason == line.adjust_reason and evidence == line.evidence:
        return line  # the same submission again
    before = line.points
    now = timezone.now()
    line.points, line.adjusted, line.adjust_reason, line.adjusted_by, line.adjusted_at = new, True, reason, actor, now
    line.evidence = evidence
    line.save(update_fields=["points", "adjusted", "adjust_reason", "adjusted_by", "adjusted_at", "evidence"])
    AssessmentAdjustment.objects.create(line=line, from_points=before, to_points=new, reason=reason, adjusted_by=actor)
    _totals(assessment)
    audit.record(
        audit.Kind.UPDATE,
        actor=actor,
        obj=line,
        changes={"points": {"from": str(before), "to": str(new)}},
        comment=reason if not evidence else f"{reason}（佐证：{evidence}）",
    )
    return line


def unscored_manual_lines(assessment: AnnualAssessment):
    return (
        AssessmentLine.objects.filter(body__assessment=assessment, item__metric=Metric.MANUAL, adjusted=False)
        .select_related("item", "body__organization")
        .order_by("body__organization__sort_order", "body__organization__code", "item__sort_order", "item_id")
    )


@transaction.atomic
def assessment_publish(*, actor, assessment: AnnualAssessment, notice: str) -> AnnualAssessment:
    """待审定 → 已通报: final ranks and grades, the 通报说明; refused while a hand-scored line is unscored."""
    assessment = _lock(assessment.pk)
    _require_manage(actor, assessment)
    if assessment.status != S.REVIEW:
        raise ValidationError(
            {"status": [f"考核当前为“{assessment.get_status_display()}”，只有待审定时可以发布通报。"]}
        )
    notice = (notice or "").strip()
    if not notice:
        raise ValidationError({"notice": ["请填写通报说明。"]})
    missing = list(unscored_manual_lines(assessment)[:6])
    if missing:
        names = "；".join(f"{line.body.organization.name}“{line.item.name}”" for line in missing[:5])
        more = "等" if len(missing) > 5 else ""
        raise ValidationError({"status": [f"以下人工评分项尚未评分，不能发布：{names}{more}。"]})
    _totals(assessment)
    assessment.status, assessment.notice = S.PUBLISHED, notice
    assessment.published_at, assessment.published_by = timezone.now(), actor
    assessment.save(update_fields=["status", "notice", "published_at", "published_by", "updated_at"])
    audit.record(
        audit.Kind.TRANSITION,
        actor=actor,
        obj=assessment,
        changes={"status": {"from": S.REVIEW, "to": S.PUBLISHED}},
        comment=notice[:500],
    )
    return assessment


@transaction.atomic
def assessment_withdraw(*, actor, assessment: AnnualAssessment, reason: str) -> AnnualAssessment:
    """已通报 → 待审定, with a reason: finance corrects a published 通报 and publishes again."""
    assessment = _lock(assessment.pk)
    _require_manage(actor, assessment)
    if assessment.status != S.PUBLISHED:
        raise ValidationError(
            {"status": [f"考核当前为“{assessment.get_status_display()}”，只有已通报的考核可以撤回。"]}
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["请填写撤回理由。"]})
    assessment.status, assessment.published_at, assessment.published_by = S.REVIEW, None, None
    assessment.save(update_fields=["status", "published_at", "published_by", "updated_at"])
    audit.record(
        audit.Kind.TRANSITION,
        actor=actor,
        obj=assessment,
        changes={"status": {"from": S.PUBLISHED, "to": S.REVIEW}},
        comment=reason,
    )
    return assessment


def compute_start(*, actor, assessment: AnnualAssessment):
    """Start the draft's computation (the engine's background job; its page leads back to the sheet)."""
    from .services_assessment import assessment_compute_start

    return assessment_compute_start(actor=actor, assessment=assessment)
