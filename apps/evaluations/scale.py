"""Self-evaluations of a large deployment, in bulk (for benchmarks).

``seed_scale_self_evaluations()`` opens the self-evaluation round of an ended year (2025) for every
scale finance bureau of ``seed_scale`` and creates one self-evaluation per scale fund with an
approved target (its latest approved version), one line per indicator, with values filled in for
most of them in a realistic spread: ≈90 % complete (confirmed, submitted, in department review,
returned or saved as drafts), ≈5 % half filled, ≈5 % untouched; shortfalls carry a reason and a
measure; ≈1 % of the confirmed ones carry a finance adjustment. Scores and points are computed
with the region's rules by ``scoring.score`` while the rows are built, and everything is written
with ``bulk_create`` (no query per row).

``all_funds=True`` (benchmarks) takes every scale fund of each year whatever its target's state,
and may be given years that have not ended: with ``years=(2025, 2026, 2027)`` that is ≈99,000
self-evaluations, the volume the re-scoring benchmark asks for. The data is deterministic (seeded
from region and year) and created once: a fund that already has its self-evaluation is skipped, so
a second run changes nothing and ``all_funds=True`` after the default run adds the rest.
"""

from __future__ import annotations

import random
import sys
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from apps.accounts.models import User
from apps.funds.models import SpecialFund
from apps.orgs.models import FiscalYear, Organization
from apps.targets.models import PerformanceTarget, TargetIndicator, TargetStatus

from . import scoring, services
from .models import SelfEvaluation, SelfEvaluationAdjustment, SelfEvaluationLine, SelfEvaluationRound

CODE_PREFIX = "SC"
BATCH = 5000
SS = SelfEvaluation.Status
Q2 = Decimal("0.01")
ONE = Decimal("1")
COUNTED_UNITS = {"人", "个", "场", "户", "台（套）", "人次", "年", "月"}

# 100 slots: (status, how much is filled in).
SPREAD = (
    [(SS.CONFIRMED, "full")] * 45
    + [(SS.SUBMITTED, "full")] * 20
    + [(SS.DEPT_REVIEW, "full")] * 10
    + [(SS.DRAFT, "full")] * 10
    + [(SS.RETURNED, "full")] * 5
    + [(SS.DRAFT, "half")] * 5
    + [(SS.DRAFT, "none")] * 5
)
REASONS = [
    ("受项目招投标进度影响，部分内容延后实施。", "加强项目进度管理，提前做好招投标准备。"),
    ("部分服务对象需求变化，实际完成量低于预期。", "动态调整实施方案，做好需求摸底。"),
    ("受季节和天气因素影响，施工周期延长。", "合理安排工期，增加施工力量。"),
    ("资金拨付时间较晚，影响项目实施进度。", "提前申请用款计划，加快资金拨付。"),
    ("绩效目标设定偏高，与实际情况存在差距。", "下一年度结合历史数据科学设定绩效目标。"),
]
EXECUTION_REASONS = [
    ("部分合同尾款未到支付节点。", "项目验收后及时支付尾款。"),
    ("政府采购结余资金。", "结余资金按规定收回统筹使用。"),
    ("项目实施进度滞后，资金支付相应推迟。", "加快项目实施，按进度及时支付。"),
]


def _say(stdout, message: str) -> None:
    stdout.write(message + "\n")


def _actual(rng: random.Random, comparison: str, target: Decimal | None, unit: str) -> Decimal:
    """A plausible actual value: mostly met, sometimes missed."""
    target = target if target is not None else Decimal("0")
    roll = rng.random()
    if comparison == scoring.LE:
        factor = rng.uniform(0.8, 1.0) if roll < 0.8 else rng.uniform(1.0, 1.4)
    elif comparison == scoring.EQ:
        factor = 1.0 if roll < 0.85 else rng.uniform(0.85, 1.0)
    elif roll < 0.7:
        factor = rng.uniform(1.0, 1.15)
    elif roll < 0.93:
        factor = rng.uniform(0.85, 1.0)
    else:
        factor = rng.uniform(0.4, 0.85)
    value = target * Decimal(str(round(factor, 4)))
    if unit == "%":
        value = min(value, Decimal("100"))
    exponent = ONE if unit in COUNTED_UNITS else Q2
    return value.quantize(exponent, rounding=ROUND_HALF_UP)


def _band(rng: random.Random) -> tuple[str, Decimal]:
    roll = rng.random()
    if roll < 0.8:
        return scoring.ACHIEVED, Decimal(rng.choice((100, 100, 95, 90, 85, 80)))
    if roll < 0.95:
        return scoring.PARTIAL, Decimal(rng.randint(60, 79))
    return scoring.NOT_ACHIEVED, Decimal(rng.randint(30, 59))


def _latest_targets(region_id: int, fiscal_year: FiscalYear, all_funds: bool) -> dict[int, tuple[int, int]]:
    """fund pk → (target pk, organization pk) of each scale fund's latest (approved) target."""
    targets = PerformanceTarget.objects.filter(
        fund__region_id=region_id, fiscal_year=fiscal_year, fund__code__startswith=CODE_PREFIX
    )
    if not all_funds:
        targets = targets.filter(status=TargetStatus.APPROVED)
    latest = dict(targets.values("fund_id").annotate(v=Max("version")).values_list("fund_id", "v"))
    result = {}
    for pk, fund_id, org_id, version in targets.values_list("pk", "fund_id", "organization_id", "version").iterator(
        chunk_size=BATCH
    ):
        if latest.get(fund_id) == version:
            result[fund_id] = (pk, org_id)
    return result


def _seed_round(
    round_: SelfEvaluationRound, *, all_funds: bool, rules: scoring.Rules, adjuster_id: int | None, counts: dict
) -> None:
    region = round_.organization.region
    year = round_.fiscal_year_id
    rng = random.Random(f"scale-selfeval-{region.code}-{year}")
    targets = _latest_targets(region.pk, round_.fiscal_year, all_funds)
    for fund_id in SelfEvaluation.objects.filter(round=round_).values_list("fund_id", flat=True).iterator(BATCH):
        targets.pop(fund_id, None)  # created before (a second run adds only what is missing)
    if not targets:
        return
    amounts = {
        pk: fiscal + other
        for pk, fiscal, other in SpecialFund.objects.filter(pk__in=list(targets))
        .values_list("pk", "fiscal_amount", "other_amount")
        .iterator(chunk_size=BATCH)
    }
    amounts.update(services._latest_monitoring_budgets(list(targets)))
    rows_of: dict[int, list[tuple]] = defaultdict(list)
    indicators = (
        TargetIndicator.objects.filter(target_id__in=[t for t, _ in targets.values()])
        .order_by("target_id", "sort_order", "pk")
        .values_list("pk", "target_id", "name", "level1", "comparison", "weight", "target_value", "unit")
    )
    for row in indicators.iterator(chunk_size=BATCH):
        rows_of[row[1]].append(row)

    anchor = datetime(year + 1, 3, 20, 10, tzinfo=timezone.get_current_timezone())
    evaluations: list[SelfEvaluation] = []
    pending_lines: list[list[SelfEvaluationLine]] = []
    adjust: list[int] = []  # positions in ``evaluations`` that get a finance adjustment
    for fund_id in sorted(targets):
        target_id, org_id = targets[fund_id]
        status, fill = rng.choice(SPREAD)
        budget = amounts[fund_id]
        evaluation = SelfEvaluation(
            round_id=round_.pk, fund_id=fund_id, target_id=target_id, organization_id=org_id, status=status,
            budget_amount=budget,
            status_changed_at=anchor - timedelta(days=rng.uniform(0, 60), minutes=rng.randint(0, 600)),
        )  # fmt: skip
        if status in (SS.SUBMITTED, SS.CONFIRMED):
            evaluation.submitted_at = evaluation.status_changed_at - timedelta(days=rng.uniform(0, 10))
        if status == SS.RETURNED:
            evaluation.return_comment = "部分指标偏差原因分析不够具体，请补充。"
        lines = []
        inputs = []
        rows = rows_of.get(target_id, [])
        filled = len(rows) if fill == "full" else (len(rows) // 2 if fill == "half" else 0)
        for i, (pk, _, name, level1, comparison, weight, target_value, unit) in enumerate(rows):
            line = SelfEvaluationLine(indicator_id=pk)
            if i < filled:
                if comparison == scoring.QUALITATIVE:
                    line.band, line.band_percent = _band(rng)
                    line.actual_text = "达到预期目标" if line.band == scoring.ACHIEVED else "基本达到预期目标"
                else:
                    line.actual_value = _actual(rng, comparison, target_value, unit)
            lines.append(line)
            inputs.append(
                scoring.IndicatorInput(
                    key=i,
                    name=name,
                    level1=level1,
                    comparison=comparison,
                    weight=weight,
                    target_value=target_value,
                    unit=unit,
                    actual_value=line.actual_value,
                    band=line.band,
                    band_percent=line.band_percent,
                )  # fmt: skip
            )
        if fill != "none":
            rate = 1.0 if rng.random() < 0.6 else rng.uniform(0.7, 1.0)
            evaluation.executed_amount = (budget * Decimal(str(round(rate, 4)))).quantize(Q2)
            evaluation.summary = f"{year}年度项目按计划组织实施，年度绩效目标{'全部' if rate == 1.0 else '基本'}完成。"
            result = scoring.score(rules, budget, evaluation.executed_amount, inputs)
            evaluation.score, evaluation.grade = result.total, result.grade
            for item in result.lines:
                if item.key == scoring.EXECUTION:
                    if item.lost:
                        evaluation.execution_reason, evaluation.execution_measure = rng.choice(EXECUTION_REASONS)
                    continue
                line = lines[item.key]
                line.points = item.points
                if item.lost and not item.missing:
                    line.shortfall_reason, line.improvement_measure = rng.choice(REASONS)
            if status == SS.CONFIRMED and adjuster_id and rng.random() < 0.02:
                adjust.append(len(evaluations))
        evaluations.append(evaluation)
        pending_lines.append(lines)

    SelfEvaluation.objects.bulk_create(evaluations, batch_size=BATCH)
    if any(e.pk is None for e in evaluations):  # databases that cannot return the new keys
        ids = dict(SelfEvaluation.objects.filter(round=round_).values_list("fund_id", "pk"))
        for e in evaluations:
            e.pk = ids[e.fund_id]
    batch: list[SelfEvaluationLine] = []
    for evaluation, lines in zip(evaluations, pending_lines, strict=True):
        for line in lines:
            line.evaluation_id = evaluation.pk
        batch.extend(lines)
        if len(batch) >= BATCH:
            SelfEvaluationLine.objects.bulk_create(batch, batch_size=BATCH)
            counts["lines"] += len(batch)
            batch = []
    SelfEvaluationLine.objects.bulk_create(batch, batch_size=BATCH)
    counts["lines"] += len(batch)

    adjustments, adjusted = [], []
    for position in adjust:
        evaluation = evaluations[position]
        new = max(evaluation.score - Decimal(rng.randint(3, 12)), Decimal("0"))
        grade = scoring.grade_of(new, rules)
        adjustments.append(
            SelfEvaluationAdjustment(
                evaluation_id=evaluation.pk,
                previous_score=evaluation.score,
                new_score=new,
                new_grade=grade,
                reason="抽查发现部分指标完成值佐证材料不足，按实际核实情况调整得分。",
                adjusted_by_id=adjuster_id,
            )  # fmt: skip
        )
        evaluation.adjusted_score, evaluation.adjusted_grade = new, grade
        adjusted.append(evaluation)
    SelfEvaluationAdjustment.objects.bulk_create(adjustments, batch_size=BATCH)
    SelfEvaluation.objects.bulk_update(adjusted, ["adjusted_score", "adjusted_grade"], batch_size=BATCH)
    counts["evaluations"] += len(evaluations)
    counts["scored"] += sum(1 for e in evaluations if e.score is not None)
    counts["adjustments"] += len(adjustments)


def seed_scale_self_evaluations(years=(2025,), *, all_funds: bool = False, stdout=None) -> dict:
    """Open the round of each year for every scale finance bureau and create its self-evaluations
    (see the module docstring). Returns what was created."""
    stdout = stdout or sys.stdout
    started = time.perf_counter()
    bureaus = list(
        Organization.objects.filter(code__startswith=CODE_PREFIX, kind=Organization.Kind.FINANCE)
        .select_related("region")
        .order_by("region__sort_order", "code")
    )
    if not bureaus:
        _say(stdout, "没有规模机构（请先运行 seed_scale），未生成单位自评。")
        return {"created": False}
    counts: dict[str, int] = defaultdict(int)
    adjusters = dict(
        User.objects.filter(organization__in=bureaus, username__startswith="sc_").values_list("organization_id", "pk")
    )
    for year in years:
        fiscal_year = FiscalYear.objects.filter(pk=year).first()
        if fiscal_year is None:
            continue
        with transaction.atomic():
            for bureau in bureaus:
                round_, _ = SelfEvaluationRound.objects.get_or_create(
                    organization=bureau,
                    fiscal_year=fiscal_year,
                    defaults={"name": f"{year}年度项目支出绩效自评", "due_on": date(year + 1, 3, 31)},
                )
                round_.organization = bureau
                rules = services.rules_for(bureau.region_id, year)
                _seed_round(round_, all_funds=all_funds, rules=rules, adjuster_id=adjusters.get(bureau.pk),
                            counts=counts)  # fmt: skip
                counts["rounds"] += 1
    if connection.vendor == "postgresql" and counts["evaluations"]:
        with connection.cursor() as cursor:  # fresh statistics, so the planner knows the new sizes
            for model in (SelfEvaluation, SelfEvaluationLine, SelfEvaluationAdjustment):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    elapsed = time.perf_counter() - started
    if not counts["evaluations"]:
        _say(stdout, "规模单位自评已存在，未做改动。")
    else:
        _say(
            stdout,
            f"单位自评：{counts['rounds']} 个自评批次、{counts['evaluations']} 份单位自评"
            f"（已计分 {counts['scored']} 份）、{counts['lines']} 条指标完成情况、"
            f"{counts['adjustments']} 条财政调整，用时 {elapsed:.1f} 秒。",
        )
    return {"created": bool(counts["evaluations"]), **counts, "seconds": round(elapsed, 1)}
