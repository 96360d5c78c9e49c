"""Writes of 单位自评: open a round (creating the tasks), save and score an evaluation, re-score.

The workflow (send, submit, confirm, return) and finance's adjustment live further down.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.core import audit, permissions
from apps.funds.models import SpecialFund
from apps.indicators.framework import Comparison
from apps.monitoring.models import MonitoringReport
from apps.orgs.models import FiscalYear, Organization
from apps.targets.models import PerformanceTarget, TargetIndicator, TargetStatus
from apps.targets.rows import parse_decimal

from . import scoring
from .models import ScoringRules, SelfEvaluation, SelfEvaluationLine, SelfEvaluationRound

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


def rescore(
    region_id: int, fiscal_year_id: int, progress: Callable[[int, int], None] | None = None, batch: int = 2000
) -> int:
    """Recompute the stored score and grade of every scored self-evaluation of the region and year
    with the current rules (finance's adjustments are kept). Returns the number re-scored."""
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
    for start in range(0, total, batch):
        chunk = ids[start : start + batch]
        with transaction.atomic():
            evaluations = {
                e.pk: e
                for e in SelfEvaluation.objects.filter(pk__in=chunk).only("pk", "budget_amount", "executed_amount")
            }
            lines_of: dict[int, list[SelfEvaluationLine]] = {pk: [] for pk in evaluations}
            for line in (
                SelfEvaluationLine.objects.filter(evaluation_id__in=chunk)
                .select_related("indicator")
                .only(
                    "pk",
                    "evaluation_id",
                    "actual_value",
                    "band",
                    "band_percent",
                    "points",
                    "indicator__name",
                    "indicator__level1",
                    "indicator__comparison",
                    "indicator__weight",
                    "indicator__target_value",
                    "indicator__unit",
                    "indicator__sort_order",
                )  # fmt: skip
                .order_by("evaluation_id", "indicator__sort_order", "indicator_id")
            ):
                lines_of[line.evaluation_id].append(line)
            changed_lines: list[SelfEvaluationLine] = []
            for pk, evaluation in evaluations.items():
                result = compute(evaluation, lines_of[pk], rules)
                store_result(evaluation, lines_of[pk], result)
                changed_lines.extend(lines_of[pk])
            SelfEvaluation.objects.bulk_update(list(evaluations.values()), ["score", "grade"], batch_size=batch)
            SelfEvaluationLine.objects.bulk_update(changed_lines, ["points"], batch_size=BATCH)
        if progress:
            progress(min(start + batch, total), total)
    return total
