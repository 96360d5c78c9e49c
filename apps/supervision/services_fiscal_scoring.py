"""区市财政运行综合绩效评价, the work on the submissions: a district finance office enters its
figures (``fiscal_values_save``, all or nothing) and reports them (``fiscal_submit``); the city
returns them with a reason (``fiscal_return``) or scores each indicator (``fiscal_score``), helped by
the suggested scores computed from every reported district's figures (``suggest``).

A submission: 填报中/已退回 → 已报送 → 已退回 or 已评分 (re-scoring is allowed until the evaluation
is published); the evaluation moves to 评分中 on its first score. The frame, opening and publishing
are in ``services_fiscal``, whose guards and locks these services share.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core import audit

from .models import FiscalEvaluation, FiscalIndicator, FiscalSubmission, FiscalValue
from .services_fiscal import (
    TWO,
    D,
    Direction,
    EStatus,
    SStatus,
    _lock_evaluation,
    _lock_submission,
    _require_fill,
    _require_manage,
    _transition,
    has_more_than_two_places,
    round_points,
)

PERCENT_RANGE = (D("-100"), D("1000"))
VALUE_LIMIT = D("99999999999999")  # NUMERIC(18,4)


# --- the district's data -------------------------------------------------------------------------


@dataclass
class Entry:
    value: str = ""
    text_value: str = ""
    note: str = ""


def parse_number(raw, indicator: FiscalIndicator) -> Decimal | None:
    """A figure as typed ("12.5", "12.5%", "1,234"); ``ValidationError`` naming the indicator."""
    text = str(raw if raw is not None else "").strip().replace(",", "").replace("，", "")
    if text.endswith("%") and indicator.unit == "%":
        text = text[:-1].strip()
    if not text:
        return None
    try:
        number = D(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise ValidationError(f"“{indicator.name}”应填写数字{f'（{indicator.unit}）' if indicator.unit else ''}。")
    if abs(number) > VALUE_LIMIT:
        raise ValidationError(f"“{indicator.name}”数值过大。")
    low, high = PERCENT_RANGE
    if indicator.unit == "%" and not low <= number <= high:
        raise ValidationError(f"“{indicator.name}”应在 -100% 至 1000% 之间。")
    if number != number.quantize(D("0.0001")):
        raise ValidationError(f"“{indicator.name}”最多保留四位小数。")
    return number.quantize(D("0.0001"))


def _shown(value: FiscalValue) -> str | None:
    """A district's figure as the audit trail records it (number, or the qualitative text)."""
    if value.indicator.direction == Direction.QUALITATIVE:
        return value.text_value[:200] or None
    return None if value.value is None else f"{value.value.normalize():f}"


def _values_of(submission: FiscalSubmission) -> list[FiscalValue]:
    return list(
        FiscalValue.objects.filter(submission=submission)
        .select_related("indicator")
        .order_by("indicator__sort_order", "indicator_id")
    )


@transaction.atomic
def fiscal_values_save(*, actor, submission: FiscalSubmission, data: dict) -> FiscalSubmission:
    """Save the district's figures. ``data``: ``{indicator_id: Entry | {"value", "text_value", "note"}}``;
    indicators not in ``data`` keep their values. All or nothing: one bad figure saves none."""
    submission = _lock_submission(submission)
    _require_fill(actor, submission)
    if submission.evaluation.status not in (EStatus.COLLECTING, EStatus.SCORING) or submission.status not in (
        SStatus.DRAFT,
        SStatus.RETURNED,
    ):
        raise ValidationError({"status": [f"当前状态为“{submission.get_status_display()}”，不能修改填报数据。"]})
    rows = {v.indicator_id: v for v in _values_of(submission)}
    errors: dict[str, list[str]] = {}
    changed: list[FiscalValue] = []
    for key, raw in (data or {}).items():
        try:
            row = rows[int(key)]
        except (KeyError, ValueError, TypeError):
            errors.setdefault("values", []).append(f"指标编号 {key} 不属于本评价。")
            continue
        entry = (
            raw
            if isinstance(raw, Entry)
            else Entry(**{k: str(v or "") for k, v in dict(raw).items() if k in Entry.__dataclass_fields__})
        )
        indicator = row.indicator
        note = entry.note.strip()
        if indicator.direction == Direction.QUALITATIVE:
            value, text = None, entry.text_value.strip()
            if len(text) > 2000:
                errors.setdefault(f"text_{indicator.pk}", []).append(f"“{indicator.name}”不能超过2000个字。")
        else:
            text = ""
            try:
                value = parse_number(entry.value, indicator)
            except ValidationError as exc:
                errors.setdefault(f"value_{indicator.pk}", []).extend(exc.messages)
                continue
        if len(note) > 1000:
            errors.setdefault(f"note_{indicator.pk}", []).append(f"“{indicator.name}”的数据说明不能超过1000个字。")
        if (row.value, row.text_value, row.note) != (value, text, note):
            before = {"value": _shown(row), "note": row.note}
            row.value, row.text_value, row.note = value, text, note
            after = {"value": _shown(row), "note": row.note}
            changed.append((row, before, after))
    if errors:
        raise ValidationError(errors)
    if changed:
        FiscalValue.objects.bulk_update([r for r, _, _ in changed], ["value", "text_value", "note"])
        submission.save(update_fields=["updated_at"])
        # before → after per indicator: "<name>" for the figure, "<name>·数据说明" for the note
        changes: dict[str, dict] = {}
        for row, before, after in changed:
            for key, label in (("value", row.indicator.name), ("note", f"{row.indicator.name}·数据说明")):
                if before[key] != after[key]:
                    changes[label] = {"from": before[key], "to": after[key]}
        audit.record(
            audit.Kind.UPDATE,
            actor=actor,
            obj=submission,
            changes=changes,
            comment=f"保存填报数据（{len(changed)} 项）",
        )
    return submission


def missing_indicators(submission: FiscalSubmission) -> list[str]:
    return [
        v.indicator.name
        for v in _values_of(submission)
        if (v.value is None if v.indicator.direction != Direction.QUALITATIVE else not v.text_value.strip())
    ]


@transaction.atomic
def fiscal_submit(*, actor, submission: FiscalSubmission) -> FiscalSubmission:
    """填报中/已退回 → 已报送, once every indicator is filled."""
    submission = _lock_submission(submission)
    _require_fill(actor, submission)
    if submission.evaluation.status not in (EStatus.COLLECTING, EStatus.SCORING) or submission.status not in (
        SStatus.DRAFT,
        SStatus.RETURNED,
    ):
        raise ValidationError({"status": [f"当前状态为“{submission.get_status_display()}”，不能报送。"]})
    missing = missing_indicators(submission)
    if missing:
        raise ValidationError({"values": [f"以下指标尚未填写：{'、'.join(missing)}。"]})
    before = submission.status
    submission.status, submission.submitted_at, submission.submitted_by = SStatus.SUBMITTED, timezone.now(), actor
    submission.save(update_fields=["status", "submitted_at", "submitted_by", "updated_at"])
    _transition(actor, submission, before, SStatus.SUBMITTED, "报送财政运行数据")
    return submission


# --- the city's review ---------------------------------------------------------------------------


@transaction.atomic
def fiscal_return(*, actor, submission: FiscalSubmission, comment: str) -> FiscalSubmission:
    """已报送 → 已退回 with the reason, for the district to correct and resubmit."""
    submission = _lock_submission(submission)
    _require_manage(actor, submission.evaluation)
    if submission.evaluation.status == EStatus.PUBLISHED or submission.status != SStatus.SUBMITTED:
        raise ValidationError(
            {"status": [f"当前状态为“{submission.get_status_display()}”，只有已报送的数据可以退回。"]}
        )
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"return_comment": ["请填写退回意见。"]})
    submission.status, submission.return_comment = SStatus.RETURNED, comment[:2000]
    submission.save(update_fields=["status", "return_comment", "updated_at"])
    _transition(actor, submission, SStatus.SUBMITTED, SStatus.RETURNED, comment)
    return submission


@transaction.atomic
def fiscal_score(
    *, actor, submission: FiscalSubmission, scores: dict, comment: str = "", reason: str = ""
) -> FiscalSubmission:
    """Score every indicator (0 ≤ score ≤ its points, at most two decimals) with an optional comment
    each; the total is the sum. ``scores``: ``{indicator_id: (score, comment)}``. 已报送/已评分 →
    已评分; the evaluation moves to 评分中 on its first score. Re-scoring an already scored
    submission needs a ``reason`` (重新评分理由); the audit row keeps every score before → after."""
    # the evaluation first, then the submission: the same order as ``fiscal_publish``
    evaluation = _lock_evaluation(FiscalEvaluation(pk=submission.evaluation_id))
    submission = FiscalSubmission.objects.select_for_update().get(pk=submission.pk)
    submission.evaluation = evaluation
    _require_manage(actor, evaluation)
    if evaluation.status not in (EStatus.COLLECTING, EStatus.SCORING) or submission.status not in (
        SStatus.SUBMITTED,
        SStatus.SCORED,
    ):
        raise ValidationError(
            {"status": [f"当前状态为“{submission.get_status_display()}”，只有已报送的数据可以评分。"]}
        )
    rescoring = submission.status == SStatus.SCORED
    reason = (reason or "").strip()
    rows = _values_of(submission)
    old = {r.pk: (r.score, r.comment) for r in rows}
    given = {}
    for key, pair in (scores or {}).items():
        try:
            given[int(key)] = pair
        except (TypeError, ValueError):
            continue
    errors: dict[str, list[str]] = {}
    for row in rows:
        indicator = row.indicator
        raw, remark = given.get(indicator.pk, (None, ""))
        text = str(raw if raw is not None else "").strip()
        if not text:
            errors.setdefault(f"score_{indicator.pk}", []).append(f"请为“{indicator.name}”评分。")
            continue
        try:
            score = D(text)
        except InvalidOperation:
            errors.setdefault(f"score_{indicator.pk}", []).append(f"“{indicator.name}”的得分应为数字。")
            continue
        if not score.is_finite() or score < 0 or score > indicator.max_points:
            errors.setdefault(f"score_{indicator.pk}", []).append(
                f"“{indicator.name}”的得分应在 0 至 {indicator.max_points} 分之间。"
            )
            continue
        if has_more_than_two_places(score):
            errors.setdefault(f"score_{indicator.pk}", []).append(f"“{indicator.name}”的得分最多保留两位小数。")
            continue
        row.score, row.comment = score.quantize(TWO), str(remark or "").strip()[:2000]
    if rescoring and not reason:
        errors.setdefault("reason", []).append("该区市已评分，重新评分请填写重新评分理由。")
    elif len(reason) > 500:
        errors.setdefault("reason", []).append("重新评分理由不能超过500个字。")
    if errors:
        raise ValidationError(errors)
    FiscalValue.objects.bulk_update(rows, ["score", "comment"])
    before = audit.snapshot(submission, ["status", "total", "comment"])
    submission.total = round_points(sum((r.score for r in rows), D("0")))
    submission.comment = (comment or "").strip()[:4000]
    submission.status, submission.scored_by, submission.scored_at = SStatus.SCORED, actor, timezone.now()
    submission.save(update_fields=["status", "total", "comment", "scored_by", "scored_at", "updated_at"])
    changes = audit.diff(before, audit.snapshot(submission, ["status", "total", "comment"]))
    for row in rows:  # every indicator's score (and its comment) before → after, keyed by the indicator
        old_score, old_comment = old[row.pk]
        if old_score != row.score:
            changes[f"得分·{row.indicator.name}"] = {
                "from": None if old_score is None else str(old_score),
                "to": str(row.score),
            }
        if old_comment != row.comment:
            changes[f"评分意见·{row.indicator.name}"] = {"from": old_comment, "to": row.comment}
    if rescoring:
        changes["reason"] = {"from": None, "to": reason}
    # scores stay out of the comment: the district reads its history before the results are
    # published (the page shows a re-scoring's reason to the city only)
    audit.record(
        audit.Kind.TRANSITION if not rescoring else audit.Kind.UPDATE,
        actor=actor,
        obj=submission,
        changes=changes,
        comment=f"重新评分：{reason}" if rescoring else "完成评分",
    )
    if evaluation.status == EStatus.COLLECTING:
        evaluation.status = EStatus.SCORING
        evaluation.save(update_fields=["status", "updated_at"])
        _transition(actor, evaluation, EStatus.COLLECTING, EStatus.SCORING, "开始评分")
    return submission


# --- suggested scores ----------------------------------------------------------------------------


def suggest(indicator: FiscalIndicator, value: Decimal | None, values: list[Decimal]) -> Decimal | None:
    """建议得分 from the figures of every reported district: higher-better ``max × value / best``,
    lower-better ``max × best / value`` (clamped to 0…max); none for qualitative indicators."""
    if value is None or not values or indicator.direction == Direction.QUALITATIVE:
        return None
    top = indicator.max_points
    if indicator.direction == Direction.HIGHER:
        best = max(values)
        if best <= 0:
            return None
        result = top * value / best
    else:
        best = min(values)
        if value <= 0 or value == best:
            result = top
        elif best <= 0:
            return None
        else:
            result = top * best / value
    return round_points(min(max(result, D("0")), top))


def reported_values(evaluation: FiscalEvaluation) -> dict[int, list[Decimal]]:
    """indicator id → figures of the districts that have reported (submitted or scored)."""
    rows = FiscalValue.objects.filter(
        submission__evaluation=evaluation,
        submission__status__in=(SStatus.SUBMITTED, SStatus.SCORED),
        value__isnull=False,
    ).values_list("indicator_id", "value")
    result: dict[int, list[Decimal]] = {}
    for indicator_id, value in rows:
        result.setdefault(indicator_id, []).append(value)
    return result
