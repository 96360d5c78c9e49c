"""Writes of 单位自评: open a round (creating the tasks), save and score an evaluation, re-score.

The workflow (send, submit, confirm, return) and finance's adjustment live further down.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Case, Max, Value, When
from django.utils import timezone

from apps.core import audit, permissions
from apps.core.workflow import Transition, Workflow
from apps.funds.models import SpecialFund
from apps.indicators.framework import Comparison
from apps.monitoring.models import MonitoringReport
from apps.orgs.models import FiscalYear, Organization
from apps.targets.models import PerformanceTarget, TargetIndicator, TargetStatus
from apps.targets.rows import parse_decimal

from . import scoring
from .models import ScoringRules, SelfEvaluation, SelfEvaluationAdjustment, SelfEvaluationLine, SelfEvaluationRound

SS = SelfEvaluation.Status
EDITABLE = (SS.DRAFT, SS.RETURNED)
BATCH = 5000


# --- rules -----------------------------------------------------------------------------------


def rules_for(region_id: int, fiscal_year_id: int) -> scoring.Rules:
    """The region's rules for the year, or the national defaults if finance has set none."""
    row = ScoringRules.objects.filter(region_id=region_id, fiscal_year_id=fiscal_year_id).first()
    return row.as_rules() if row else scoring.DEFAULT_RULES


# --- rounds ----------------------------------------------------------------------------------


@transaction.atomic
def round_open(
    *, actor, organization: Organization, fiscal_year: FiscalYear, due_on: date, name: str = ""
) -> tuple[SelfEvaluationRound, int]:
    """Open (or re-open) the region's self-evaluation of ``fiscal_year`` and create missing tasks.

    Idempotent like monitoring rounds: a second call creates nothing new; funds approved since the
    first call get their task. Returns the round and the number of evaluations created."""
    if organization.kind != Organization.Kind.FINANCE:
        raise ValidationError({"organization": "自评批次只能由区域的财政局开启。"})
    if not permissions.can(actor, "selfeval.manage", organization):
        raise PermissionDenied("您只能开启本区域的单位自评。")
    if timezone.localdate().year <= fiscal_year.year:
        raise ValidationError({"fiscal_year": f"{fiscal_year.year}年度尚未结束，不能开启单位自评。"})
    round_, created = SelfEvaluationRound.objects.select_for_update().get_or_create(
        organization=organization,
        fiscal_year=fiscal_year,
        defaults={"name": name or f"{fiscal_year.year}年度项目支出绩效自评", "due_on": due_on},
    )
    if round_.status == SelfEvaluationRound.Status.CLOSED:
        raise ValidationError("该自评批次已结束，不能再增加自评任务。")
    made = create_missing_evaluations(round_)
    if created or made:
        audit.record(
            audit.Kind.CREATE if created else audit.Kind.UPDATE,
            actor=actor,
            obj=round_,
            comment=f"开启单位自评，新建自评任务 {made} 个",
        )
    return round_, made


def _latest_monitoring_budgets(fund_ids: Iterable[int]) -> dict[int, Decimal]:
    """The adjusted budget of each fund's last monitoring report (finance may have adjusted it)."""
    last = (
        MonitoringReport.objects.filter(fund_id__in=fund_ids)
        .order_by("fund_id", "-round__data_as_of")
        .values_list("fund_id", "budget_amount")
    )
    budgets: dict[int, Decimal] = {}
    for fund_id, amount in last.iterator(chunk_size=BATCH):
        budgets.setdefault(fund_id, amount)
    return budgets


def create_missing_evaluations(round_: SelfEvaluationRound) -> int:
    """One self-evaluation per fund of the region and year with an approved target (its latest
    approved version), with one line per indicator of that version; in bulk, skipping existing ones.

    Prefilled: the indicators, their targets and 分值 from the approved target, the adjusted budget
    from the last monitoring report (else the fund's amount). The last monitoring report's figures
    are shown beside the form as a reference, not copied into the actual values."""
    latest_approved = (
        PerformanceTarget.objects.filter(
            fund__region_id=round_.organization.region_id,
            fiscal_year=round_.fiscal_year,
            status=TargetStatus.APPROVED,
        )
        .values("fund_id")
        .annotate(version=Max("version"))
    )
    have = set(SelfEvaluation.objects.filter(round=round_).values_list("fund_id", flat=True))
    wanted = {row["fund_id"]: row["version"] for row in latest_approved if row["fund_id"] not in have}
    if not wanted:
        return 0
    targets = {
        t.fund_id: t
        for t in PerformanceTarget.objects.filter(fund_id__in=wanted, status=TargetStatus.APPROVED).only(
            "id", "fund_id", "version", "organization_id"
        )
        if t.version == wanted[t.fund_id]
    }
    amounts = {
        pk: fiscal + other
        for pk, fiscal, other in SpecialFund.objects.filter(pk__in=wanted)
        .values_list("pk", "fiscal_amount", "other_amount")
        .iterator(chunk_size=BATCH)
    }
    amounts.update(_latest_monitoring_budgets(wanted))
    now = timezone.now()
    SelfEvaluation.objects.bulk_create(
        [
            SelfEvaluation(
                round=round_,
                fund_id=fund_id,
                target_id=target.pk,
                organization_id=target.organization_id,
                budget_amount=amounts[fund_id],
                status_changed_at=now,
            )
            for fund_id, target in targets.items()
        ],
        batch_size=BATCH,
    )
    ids = dict(SelfEvaluation.objects.filter(round=round_, fund_id__in=targets).values_list("target_id", "pk"))
    SelfEvaluationLine.objects.bulk_create(
        (
            SelfEvaluationLine(evaluation_id=ids[target_id], indicator_id=indicator_id)
            for indicator_id, target_id in TargetIndicator.objects.filter(target_id__in=ids)
            .values_list("pk", "target_id")
            .iterator(chunk_size=BATCH)
        ),
        batch_size=BATCH,
    )
    return len(targets)


# --- scoring an evaluation -------------------------------------------------------------------


def scoring_input(line: SelfEvaluationLine) -> scoring.IndicatorInput:
    indicator = line.indicator
    return scoring.IndicatorInput(
        key=line.pk,
        name=indicator.name,
        level1=indicator.level1,
        comparison=indicator.comparison,
        weight=indicator.weight,
        target_value=indicator.target_value,
        unit=indicator.unit,
        actual_value=line.actual_value,
        band=line.band,
        band_percent=line.band_percent,
    )


def compute(evaluation: SelfEvaluation, lines: list[SelfEvaluationLine], rules: scoring.Rules | None = None):
    """The score of the evaluation with these (possibly unsaved) lines."""
    if rules is None:
        rules = rules_for(evaluation.round.organization.region_id, evaluation.round.fiscal_year_id)
    return scoring.score(
        rules, evaluation.budget_amount, evaluation.executed_amount, [scoring_input(line) for line in lines]
    )


@dataclass
class Entry:
    """What the form (or an import row) says about one line; strings as typed."""

    actual_value: object = None
    actual_text: str = ""
    band: str = ""
    band_percent: object = None
    shortfall_reason: str = ""
    improvement_measure: str = ""


def _number(raw, label: str, errors: dict[str, list[str]], key: str) -> Decimal | None:
    try:
        value = parse_decimal(raw)
    except (InvalidOperation, ValueError):
        errors.setdefault(key, []).append(f"{label}必须是数字。")
        return None
    if value is not None and value < 0:
        errors.setdefault(key, []).append(f"{label}不能为负数。")
        return None
    if value is not None and abs(value) >= Decimal("1e14"):
        errors.setdefault(key, []).append(f"{label}数值过大。")
        return None
    return value


def apply_entries(
    evaluation: SelfEvaluation,
    lines: list[SelfEvaluationLine],
    executed_amount,
    entries: dict[int, Entry],
    rules: scoring.Rules,
) -> tuple[scoring.Result, dict[str, list[str]]]:
    """Put the typed values on the (unsaved) objects and score them.

    Returns the result and the errors keyed by form field (``executed_amount``,
    ``line-<id>-actual_value`` …), each message naming the indicator. Used by the save, the live
    preview and the import, so the three can never disagree."""
    errors: dict[str, list[str]] = {}
    evaluation.executed_amount = _number(executed_amount, "实际执行数", errors, "executed_amount")
    by_pk = {line.pk: line for line in lines}
    if set(entries) - set(by_pk):
        raise ValidationError("指标行不属于该自评表，请刷新页面后重新填写。")
    for position, line in enumerate(lines, start=1):
        entry = entries.get(line.pk)
        if entry is None:
            continue
        indicator = line.indicator
        label = f"第 {position} 项指标“{indicator.name}”的"
        key = f"line-{line.pk}-"
        line.shortfall_reason = (entry.shortfall_reason or "").strip()
        line.improvement_measure = (entry.improvement_measure or "").strip()
        if indicator.comparison == Comparison.QUALITATIVE:
            line.actual_text = (entry.actual_text or "").strip()[:200]
            line.band = entry.band or ""
            if line.band and line.band not in SelfEvaluationLine.Band.values:
                errors.setdefault(key + "band", []).append(f"{label}完成程度无效。")
                line.band = ""
            line.band_percent = _number(entry.band_percent, label + "得分比例", errors, key + "band_percent")
            if line.band and line.band_percent is not None:
                low, high, inclusive = rules.band_limits(line.band)
                pct = line.band_percent
                if pct < low or pct > high or (pct == high and not inclusive):
                    closing = "]" if inclusive else ")"
                    errors.setdefault(key + "band_percent", []).append(
                        f"{label}得分比例应在{line.get_band_display()}区间 [{scoring.fmt(low)}, "
                        f"{scoring.fmt(high)}{closing} 内。"
                    )
                    line.band_percent = None
        else:
            line.actual_value = _number(entry.actual_value, label + "实际完成值", errors, key + "actual_value")
    result = compute(evaluation, lines, rules)
    return result, errors


def submission_problems(evaluation: SelfEvaluation, lines: list[SelfEvaluationLine], result) -> list[str]:
    """What still blocks sending the evaluation: missing values, shortfalls without reason/measure."""
    problems = [f"“{name}”尚未填写实际完成情况。" for name in result.missing]
    by_pk = {line.pk: line for line in lines}
    for item in result.lines:
        if item.missing or not item.lost:
            continue
        if item.key == scoring.EXECUTION:
            if not evaluation.execution_reason.strip() or not evaluation.execution_measure.strip():
                problems.append("预算未全部执行：请填写执行偏差原因和改进措施。")
            continue
        line = by_pk[item.key]
        if not line.shortfall_reason or not line.improvement_measure:
            problems.append(f"“{item.name}”未完成目标：请填写偏差原因和改进措施。")
    return problems


LINE_FIELDS = [
    "actual_value",
    "actual_text",
    "band",
    "band_percent",
    "shortfall_reason",
    "improvement_measure",
    "points",
]
EVALUATION_FIELDS = ["executed_amount", "execution_reason", "execution_measure", "summary"]


def locked_lines(evaluation: SelfEvaluation) -> list[SelfEvaluationLine]:
    return list(evaluation.lines.select_related("indicator").order_by("indicator__sort_order", "indicator_id"))


def store_result(evaluation: SelfEvaluation, lines: list[SelfEvaluationLine], result) -> None:
    """Copy the computed points onto the objects (the caller saves them)."""
    points = {item.key: item.points for item in result.lines}
    for line in lines:
        line.points = points[line.pk]
    evaluation.score, evaluation.grade = result.total, result.grade


@transaction.atomic
def evaluation_save(
    *,
    actor,
    evaluation: SelfEvaluation,
    executed_amount,
    entries: dict[int, Entry],
    execution_reason: str = "",
    execution_measure: str = "",
    summary: str = "",
) -> scoring.Result:
    """Save what the unit typed and the score it gives. Incomplete work may be saved (a busy clerk
    saves as they go); only sending it on (``evaluation_send``) requires every value and reason."""
    evaluation = (
        SelfEvaluation.objects.select_for_update(of=("self",))
        .select_related("round__organization")
        .get(pk=evaluation.pk)
    )
    if not permissions.can(actor, "selfeval.fill", evaluation):
        raise PermissionDenied("您无权填报该单位自评。")
    if evaluation.status not in EDITABLE:
        raise ValidationError(f"单位自评当前状态为“{evaluation.get_status_display()}”，不能修改。")
    if evaluation.round.status == SelfEvaluationRound.Status.CLOSED:
        raise ValidationError("该自评批次已结束，不能再修改。")
    before = audit.snapshot(evaluation, [*EVALUATION_FIELDS, "score"])
    rules = rules_for(evaluation.round.organization.region_id, evaluation.round.fiscal_year_id)
    lines = locked_lines(evaluation)
    result, errors = apply_entries(evaluation, lines, executed_amount, entries, rules)
    if errors:
        raise ValidationError(errors)
    evaluation.execution_reason = (execution_reason or "").strip()
    evaluation.execution_measure = (execution_measure or "").strip()
    evaluation.summary = (summary or "").strip()
    evaluation.updated_by = actor
    store_result(evaluation, lines, result)
    evaluation.save(update_fields=[*EVALUATION_FIELDS, "score", "grade", "updated_by", "updated_at"])
    SelfEvaluationLine.objects.bulk_update(lines, LINE_FIELDS)
    changes = audit.diff(before, audit.snapshot(evaluation, [*EVALUATION_FIELDS, "score"]))
    audit.record(audit.Kind.UPDATE, actor=actor, obj=evaluation, changes=changes, comment="填报单位自评")
    return result


# --- re-scoring after a rules change ---------------------------------------------------------

RESCORE_INDICATOR_FIELDS = ("pk", "sort_order", "name", "level1", "comparison", "weight", "target_value", "unit")
RESCORE_LINE_FIELDS = ("pk", "evaluation_id", "indicator_id", "actual_value", "band", "band_percent", "points")
POINTS_PLACES = Decimal("0.0001")  # SelfEvaluationLine.points: NUMERIC(9, 4)


def _bulk_set(model, fields: list[str], rows: list[tuple], *, casts: dict[str, str]) -> None:
    """Set ``fields`` of many rows at once: ``rows`` are ``(pk, value, …)``. On PostgreSQL one
    ``UPDATE … FROM (VALUES …)`` per 20,000 rows, limited to the batch's key range so the primary
    key index finds the rows (``bulk_update`` writes a ``CASE`` that is evaluated for every row and
    grows quadratically); elsewhere ``bulk_update``."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        objs = [model(pk=row[0], **dict(zip(fields, row[1:], strict=True))) for row in rows]
        model.objects.bulk_update(objs, fields, batch_size=BATCH)
        return
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    columns = [connection.ops.quote_name(model._meta.get_field(f).column) for f in fields]
    names = ", ".join(["id", *(f"v{i}" for i in range(len(fields)))])
    sets = ", ".join(f"{col} = v.v{i}::{casts[f]}" for i, (f, col) in enumerate(zip(fields, columns, strict=True)))
    placeholder = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    rows = sorted(rows)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 20_000):
            chunk = rows[start : start + 20_000]
            sql = (
                f"UPDATE {table} AS t SET {sets} FROM (VALUES {', '.join([placeholder] * len(chunk))}) "
                f"AS v({names}) WHERE t.{pk} = v.id AND t.{pk} BETWEEN %s AND %s"
            )
            cursor.execute(sql, [value for row in chunk for value in row] + [chunk[0][0], chunk[-1][0]])


@dataclass
class _Rescored:
    """One batch's changes: ``evaluations`` (pk, score, grade) and ``lines`` (pk, points)."""

    evaluations: list[tuple] = field(default_factory=list)
    lines: list[tuple] = field(default_factory=list)


def _rescore_batch(chunk: list[int], rules: scoring.Rules, failed: list) -> _Rescored:
    """Read a batch as plain rows, its evaluations locked (a unit saving one of them waits, then
    scores its values with the new rules), and score it."""
    evaluations = list(
        SelfEvaluation.objects.filter(pk__in=chunk, pk__gte=chunk[0], pk__lte=chunk[-1])
        .order_by("pk")
        .select_for_update()
        .values_list("pk", "budget_amount", "executed_amount", "score", "grade", "fund_id", "target_id")
    )
    # Lines and indicators in two index scans, joined here (a join in SQL makes PostgreSQL hash the
    # whole indicator table for every batch).
    indicators = {
        row[0]: row
        for row in TargetIndicator.objects.filter(target_id__in={e[6] for e in evaluations})
        .order_by()
        .values_list(*RESCORE_INDICATOR_FIELDS)
    }
    lines_of: dict[int, list[tuple]] = {e[0]: [] for e in evaluations}
    for row in SelfEvaluationLine.objects.filter(evaluation_id__in=chunk).order_by().values_list(*RESCORE_LINE_FIELDS):
        lines_of[row[1]].append(row)
    out = _Rescored()
    for pk, budget, executed, old_score, old_grade, fund_id, _ in evaluations:
        rows = sorted(lines_of[pk], key=lambda line: (indicators[line[2]][1], line[2]))  # as locked_lines
        inputs = []
        for line_pk, _, indicator_id, actual_value, band, band_percent, _ in rows:
            _, _, name, level1, comparison, weight, target_value, unit = indicators[indicator_id]
            inputs.append(
                scoring.IndicatorInput(
                    key=line_pk,
                    name=name,
                    level1=level1,
                    comparison=comparison,
                    weight=weight,
                    target_value=target_value,
                    unit=unit,
                    actual_value=actual_value,
                    band=band,
                    band_percent=band_percent,
                )
            )
        try:
            result = scoring.score(rules, budget, executed, inputs)
        except scoring.ScoringError as exc:
            failed.append((fund_id, str(exc)))
            continue
        if result.total != old_score or result.grade != old_grade:
            out.evaluations.append((pk, result.total, result.grade))
        old_points = {row[0]: row[6] for row in rows}
        for item in result.lines:
            if item.key == scoring.EXECUTION:
                continue
            points = item.points.quantize(POINTS_PLACES, rounding=ROUND_HALF_UP)
            if points != old_points[item.key]:
                out.lines.append((item.key, points))
    return out


def _write_rescored(work: _Rescored) -> None:
    _bulk_set(SelfEvaluation, ["score", "grade"], work.evaluations, casts={"score": "numeric", "grade": "varchar"})
    _bulk_set(SelfEvaluationLine, ["points"], work.lines, casts={"points": "numeric"})


def _regrade_adjusted(region_id: int, fiscal_year_id: int, rules: scoring.Rules) -> None:
    """Adjusted scores stay as finance set them; their grade follows the current grade lines (one UPDATE)."""
    grade = Case(
        When(adjusted_score__gte=rules.grade_excellent, then=Value(scoring.EXCELLENT)),
        When(adjusted_score__gte=rules.grade_good, then=Value(scoring.GOOD)),
        When(adjusted_score__gte=rules.grade_fair, then=Value(scoring.FAIR)),
        default=Value(scoring.POOR),
    )
    SelfEvaluation.objects.filter(
        round__organization__region_id=region_id, round__fiscal_year_id=fiscal_year_id, adjusted_score__isnull=False
    ).update(adjusted_grade=grade)


def rescore(
    region_id: int, fiscal_year_id: int, progress: Callable[[int, int], None] | None = None, batch: int = 2000
) -> int:
    """Recompute the stored score and grade of every scored self-evaluation of the region and year
    with the current rules. Finance's adjusted scores are kept; their grades are re-read from the new
    grade lines. Returns the number re-scored.

    Plain rows (``values_list``), the pure ``scoring.score``, and one ``UPDATE … FROM (VALUES …)``
    per table and batch for the rows whose score, grade or points changed; each batch of 2,000 is
    one transaction with its evaluations locked. An evaluation the rules cannot score (e.g. a
    qualitative percentage outside a band that has since changed) keeps its score; the others are
    re-scored and ``ScoringError`` then names it."""
    rules = rules_for(region_id, fiscal_year_id)
    ids = list(
        SelfEvaluation.objects.filter(
            round__organization__region_id=region_id, round__fiscal_year_id=fiscal_year_id, score__isnull=False
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    total = len(ids)
    if progress:
        progress(0, total)
    failed: list[tuple[int, str]] = []  # (fund, why) of evaluations the rules cannot score
    for start in range(0, total, batch):
        with transaction.atomic():
            _write_rescored(_rescore_batch(ids[start : start + batch], rules, failed))
        if progress:
            progress(min(start + batch, total), total)
    _regrade_adjusted(region_id, fiscal_year_id, rules)
    if failed:
        names = dict(SpecialFund.objects.filter(pk__in=[f for f, _ in failed[:5]]).values_list("pk", "name"))
        shown = "；".join(f"“{names.get(f, f)}”：{why}" for f, why in failed[:5])
        shown += f" 等 {len(failed)} 份" if len(failed) > 5 else ""
        raise scoring.ScoringError(
            f"已按新规则重新计分 {total - len(failed)} 份；以下 {len(failed)} 份单位自评无法按新规则计分，"
            f"得分未更新：{shown}"
        )
    return total


# --- closing a round -------------------------------------------------------------------------


@transaction.atomic
def round_close(*, actor, round_: SelfEvaluationRound) -> SelfEvaluationRound:
    """Finance ends the round: nothing more is filled or sent (review and adjustment go on)."""
    round_ = (
        SelfEvaluationRound.objects.select_for_update(of=("self",)).select_related("organization").get(pk=round_.pk)
    )
    if not permissions.can(actor, "selfeval.manage", round_.organization):
        raise PermissionDenied("您只能结束本区域的自评批次。")
    if round_.status == SelfEvaluationRound.Status.CLOSED:
        raise ValidationError("该自评批次已结束。")
    round_.status = SelfEvaluationRound.Status.CLOSED
    round_.save(update_fields=["status"])
    audit.record(
        audit.Kind.UPDATE,
        actor=actor,
        obj=round_,
        changes={"status": {"from": SelfEvaluationRound.Status.OPEN, "to": SelfEvaluationRound.Status.CLOSED}},
        comment="结束单位自评批次",
    )
    return round_


# --- live preview (no writes) ----------------------------------------------------------------


@dataclass
class Preview:
    result: scoring.Result | None
    errors: dict[str, list[str]]
    problems: list[str]

    @property
    def messages(self) -> list[str]:
        return [m for messages in self.errors.values() for m in messages]


def evaluation_preview(
    *,
    evaluation: SelfEvaluation,
    lines: list[SelfEvaluationLine],
    executed_amount,
    entries: dict[int, Entry],
    execution_reason: str = "",
    execution_measure: str = "",
    rules: scoring.Rules | None = None,
) -> Preview:
    """The score the typed values would give, on the unsaved objects: nothing is written.

    Same code path as ``evaluation_save`` (``apply_entries``), so the preview always equals the
    score a save stores. ``problems`` are what would still block sending it on."""
    if rules is None:
        rules = rules_for(evaluation.round.organization.region_id, evaluation.round.fiscal_year_id)
    try:
        result, errors = apply_entries(evaluation, lines, executed_amount, entries, rules)
    except ValidationError as exc:
        return Preview(None, {"__all__": exc.messages}, [])
    except scoring.ScoringError as exc:
        return Preview(None, {"__all__": [str(exc)]}, [])
    evaluation.execution_reason = (execution_reason or "").strip()
    evaluation.execution_measure = (execution_measure or "").strip()
    return Preview(result, errors, [] if errors else submission_problems(evaluation, lines, result))


# --- workflow: unit → department → finance -----------------------------------------------------


def _ready_to_send(evaluation: SelfEvaluation, actor) -> None:
    """Guard: every value is there and every shortfall has its reason and measure."""
    round_ = SelfEvaluationRound.objects.select_related("organization").get(pk=evaluation.round_id)
    if round_.status == SelfEvaluationRound.Status.CLOSED:
        raise ValidationError("该自评批次已结束，不能再提交。")
    lines = locked_lines(evaluation)
    evaluation.round = round_
    try:
        result = compute(evaluation, lines)
    except scoring.ScoringError as exc:
        raise ValidationError(str(exc)) from None
    problems = submission_problems(evaluation, lines, result)
    if problems:
        raise ValidationError(problems)


SELF_FLOW = Workflow(
    [
        Transition("send", frozenset(EDITABLE), SS.DEPT_REVIEW, "selfeval.fill", "提交部门审核", _ready_to_send),
        Transition("submit", frozenset({SS.DEPT_REVIEW}), SS.SUBMITTED, "selfeval.submit", "部门审核通过并报送财政"),
        Transition("dept_return", frozenset({SS.DEPT_REVIEW}), SS.RETURNED, "selfeval.submit", "部门退回",
                   comment_required=True),
        Transition("confirm", frozenset({SS.SUBMITTED}), SS.CONFIRMED, "selfeval.review", "财政审核确认"),
        Transition("return", frozenset({SS.SUBMITTED}), SS.RETURNED, "selfeval.review", "财政退回",
                   comment_required=True),
    ]
)  # fmt: skip
TRANSITIONS = tuple(SELF_FLOW.transitions)


def evaluation_transition(*, actor, evaluation: SelfEvaluation, name: str, comment: str = "") -> SelfEvaluation:
    """Take one workflow step. A return keeps its comment for the unit; finance's return also
    clears a score adjustment (it was made on values the unit will now change; the adjustment rows
    stay on record)."""
    if name not in SELF_FLOW.transitions:
        raise ValidationError(f"未知的操作“{name}”。")
    now = timezone.now()
    fields: dict = {"status_changed_at": now}
    if name == "submit":
        fields["submitted_at"] = now
    if name in ("return", "dept_return"):
        fields["return_comment"] = comment.strip()
    if name == "return":
        fields["adjusted_score"], fields["adjusted_grade"] = None, ""
    return SELF_FLOW.apply(evaluation, name=name, actor=actor, comment=comment.strip(), fields=fields)


# --- finance's adjustment ----------------------------------------------------------------------

ADJUSTABLE = (SS.SUBMITTED, SS.CONFIRMED)


def _score(raw) -> Decimal:
    try:
        value = parse_decimal(raw)
    except (InvalidOperation, ValueError):
        raise ValidationError({"new_score": "调整后得分必须是数字。"}) from None
    if value is None:
        raise ValidationError({"new_score": "请填写调整后得分。"})
    if value < 0 or value > 100:
        raise ValidationError({"new_score": "调整后得分应在 0 到 100 之间。"})
    if value != value.quantize(scoring.CENT):
        raise ValidationError({"new_score": "调整后得分最多保留两位小数。"})
    return value.quantize(scoring.CENT)


@transaction.atomic
def evaluation_adjust(*, actor, evaluation: SelfEvaluation, new_score, reason: str) -> SelfEvaluationAdjustment:
    """Finance's spot-check adjustment of the score, with a written reason.

    The computed score stays as it is; the adjustment is a row of its own (previous → new, who,
    when, why) and the evaluation shows the latest one as its final score and grade."""
    evaluation = (
        SelfEvaluation.objects.select_for_update(of=("self",))
        .select_related("round__organization")
        .get(pk=evaluation.pk)
    )
    if not permissions.can(actor, "selfeval.adjust", evaluation):
        raise PermissionDenied("您无权调整该单位自评的得分。")
    if evaluation.status not in ADJUSTABLE:
        raise ValidationError(f"单位自评当前状态为“{evaluation.get_status_display()}”，报送财政后才能调整得分。")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "调整得分必须写明理由。"})
    score = _score(new_score)
    previous = evaluation.final_score
    if previous is not None and score == previous:
        raise ValidationError({"new_score": f"调整后得分与当前得分 {previous} 相同，无需调整。"})
    rules = rules_for(evaluation.round.organization.region_id, evaluation.round.fiscal_year_id)
    grade = scoring.grade_of(score, rules)
    adjustment = SelfEvaluationAdjustment(
        evaluation=evaluation, previous_score=previous, new_score=score, new_grade=grade, reason=reason,
        adjusted_by=actor,
    )  # fmt: skip
    adjustment.full_clean()
    adjustment.save()
    before = audit.snapshot(evaluation, ["adjusted_score", "adjusted_grade"])
    evaluation.adjusted_score, evaluation.adjusted_grade = score, grade
    evaluation.save(update_fields=["adjusted_score", "adjusted_grade", "updated_at"])
    audit.record(
        audit.Kind.UPDATE,
        actor=actor,
        obj=evaluation,
        changes=audit.diff(before, audit.snapshot(evaluation, ["adjusted_score", "adjusted_grade"])),
        comment=f"财政调整自评得分（{previous if previous is not None else '—'} → {score}）：{reason}",
    )
    return adjustment
