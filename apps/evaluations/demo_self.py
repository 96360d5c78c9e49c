"""Demo self-evaluations for ``seed_demo``: the 2025 round of 市本级 and 市南区 with evaluations in
every state (待填报, 待部门审核, 待财政审核, 财政已审核, 已退回) and every grade (优/良/中/差), one of
them adjusted by finance with a written reason.

Runs after ``apps.targets.demo.seed_targets(2025)``. Values are typed the way a unit would
(``services.apply_entries``, the code path of the form and the API), so every stored score is
exactly what ``scoring`` computes. Deterministic (from the fund code) and only created when the
region's round does not exist yet, so a second run changes nothing.

``edu_unit_filler``'s unit (青岛第二中学) gets one evaluation to fill and one returned to fix: the
target demo approves only one fund of that unit, so a second small fund with an approved target
is added for it (code ``…-2025-07``)."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.funds.models import SpecialFund
from apps.indicators.framework import Comparison, Sector
from apps.indicators.models import LibraryIndicator
from apps.orgs.models import FiscalYear, Organization
from apps.targets.demo import _rows_for
from apps.targets.models import PerformanceTarget, TargetStatus

from . import scoring, services
from .models import SelfEvaluation, SelfEvaluationLine, SelfEvaluationRound

SS = SelfEvaluation.Status
REGIONS = ("370200", "370202")  # 市本级, 市南区
D = Decimal

# (status, achievement ratio or None for an untouched form, fill only half the lines)
EXCELLENT, GOOD, FAIR, POOR = D("0.96"), D("0.86"), D("0.70"), D("0.48")
STORIES = [
    (SS.CONFIRMED, EXCELLENT, False),
    (SS.SUBMITTED, GOOD, False),
    (SS.DEPT_REVIEW, FAIR, False),
    (SS.RETURNED, POOR, False),
    (SS.DRAFT, None, False),
    (SS.CONFIRMED, GOOD, False),  # adjusted by finance (the first one of the region)
    (SS.CONFIRMED, POOR, False),
    (SS.SUBMITTED, EXCELLENT, False),
    (SS.DRAFT, FAIR, True),  # saved half-way: a live score with missing values
    (SS.CONFIRMED, FAIR, False),
]
# The demo accounts' own work, by fund code.
FIXED = {
    "370200-EDU-2025-01": (SS.DRAFT, None, False),  # edu_unit_filler: to fill
    "370200-EDU-2025-07": (SS.RETURNED, FAIR, False),  # edu_unit_filler: returned, to fix
    "370200-EDU-2025-02": (SS.DEPT_REVIEW, GOOD, False),  # edu_approver: to submit
    "370202-EDU-2025-01": (SS.DRAFT, None, False),  # shinan_edu_filler: to fill
    "370202-EDU-2025-02": (SS.SUBMITTED, EXCELLENT, False),  # shinan_finance: to review
}
EXTRA_FUND = ("370200-EDU", "370200-EDU-U1", "中小学心理健康教育", D("1200000"))
RETURN_COMMENT = "部分指标偏差原因过于笼统，请逐项说明未完成的具体原因并补充佐证材料。"
ADJUST_REASON = "抽查发现部分指标的实际完成值缺少佐证材料（验收报告未附），按规定核减相应得分。"


@transaction.atomic
def seed_self_evaluations(year: int = 2025) -> int:
    """Open the self-evaluation of ``year`` in 市本级 and 市南区 and fill it. Returns rows created."""
    fiscal_year = FiscalYear.objects.filter(pk=year).first()
    if fiscal_year is None:
        return 0
    created = 0
    for region_code in REGIONS:
        bureau = Organization.objects.filter(code=f"{region_code}-CZ", kind=Organization.Kind.FINANCE).first()
        if bureau is None or SelfEvaluationRound.objects.filter(organization=bureau, fiscal_year=fiscal_year).exists():
            continue
        if region_code == "370200":
            created += _extra_fund(fiscal_year)
        round_ = SelfEvaluationRound.objects.create(
            organization=bureau,
            fiscal_year=fiscal_year,
            name=f"{year}年度项目支出绩效自评",
            due_on=date(year + 1, 3, 31),
        )
        created += 1 + services.create_missing_evaluations(round_)
        _fill(round_)
    return created


def _extra_fund(fiscal_year: FiscalYear) -> int:
    """A second approved fund for 青岛第二中学, so its filler has one to fill and one to fix."""
    dept_code, unit_code, name, amount = EXTRA_FUND
    code = f"{dept_code}-{fiscal_year.year}-07"
    dept = Organization.objects.filter(code=dept_code).first()
    unit = Organization.objects.filter(code=unit_code).first()
    if dept is None or unit is None or SpecialFund.objects.filter(fiscal_year=fiscal_year, code=code).exists():
        return 0
    now = timezone.now()
    fund = SpecialFund.objects.create(
        fiscal_year=fiscal_year, region=dept.region, code=code, name=name, budget_type="general",
        sector=Sector.EDUCATION, organization=unit, department=dept, fiscal_amount=amount, other_amount=D("0"),
        period_start=fiscal_year.year, period_end=fiscal_year.year, description=f"{name}，由{unit.name}组织实施。",
        request_status=SpecialFund.RequestStatus.ARRANGED, arranged_amount=amount,
        arrangement_comment="按申报金额安排。",
    )  # fmt: skip
    target = PerformanceTarget.objects.create(
        kind=PerformanceTarget.Kind.FUND, fund=fund, organization=unit, fiscal_year=fiscal_year,
        status=TargetStatus.APPROVED, long_term_goal="三年内实现心理健康教育全覆盖。",
        annual_goal=f"{fiscal_year.year}年完成心理辅导室建设和教师培训。", status_changed_at=now - timedelta(days=300),
        submitted_at=now - timedelta(days=320), approved_at=now - timedelta(days=300),
    )  # fmt: skip
    library: dict[tuple[str, str], list[LibraryIndicator]] = {}
    for ind in LibraryIndicator.objects.filter(status=LibraryIndicator.Status.ACTIVE):
        library.setdefault((ind.sector, ind.level1), []).append(ind)
    rows = _rows_for(Sector.EDUCATION, random.Random(code), library)
    for row in rows:
        row.target = target
    target.indicators.bulk_create(rows)
    return 1


def _ratio_entries(lines, ratio: Decimal, rng: random.Random | None, rules: scoring.Rules, half: bool):
    """What a unit achieving about ``ratio`` of its targets types (each line a little around it,
    or exactly at it without ``rng``)."""
    entries = {}
    for i, line in enumerate(lines):
        if half and i % 2:
            continue
        ind = line.indicator
        r = min(D("1"), ratio + (D(rng.choice(["-0.04", "0", "0.04", "0.08"])) if rng else D("0")))
        lost = r < 1
        entry = services.Entry(
            shortfall_reason="受项目实施进度影响，部分任务延至次年完成。" if lost and not half else "",
            improvement_measure="加强进度调度，按月通报完成情况，确保次年按期完成。" if lost and not half else "",
        )
        if ind.comparison == Comparison.QUALITATIVE:
            pct = (r * 100).quantize(D("1"))
            if pct >= rules.band_achieved_min:
                entry.band, entry.actual_text = scoring.ACHIEVED, "达到预期目标"
            elif pct >= rules.band_partial_min:
                entry.band, entry.actual_text = scoring.PARTIAL, "部分达到预期目标"
            else:
                entry.band, entry.actual_text = scoring.NOT_ACHIEVED, "未达到预期目标"
            entry.band_percent = str(pct)
        else:
            target = ind.target_value or D("0")
            if ind.comparison == Comparison.LE:
                actual = target / r if target else target
            else:
                actual = target * r
            entry.actual_value = str(actual.quantize(D("0.01")))
        entries[line.pk] = entry
    return entries


LATE_DRAWS = 3  # of the 20 equally likely draws: about one sent evaluation in seven is late


def _timestamps(round_: SelfEvaluationRound, status: str, rng: random.Random, now):
    """(status_changed_at, submitted_at) of a demo evaluation, placed around the round's due date:
    most units send one day to two and a half weeks before it, about one in seven (``LATE_DRAWS``)
    three to nine days after it; finance confirms one to four weeks after receiving. Takes exactly
    the two draws the demo always took from ``rng`` (the scores that follow stay the same), never
    lies in the future, and depends only on the fund code and the due date (a rerun gives the same)."""
    changed_days = rng.randint(1, 20)
    if status not in (SS.SUBMITTED, SS.CONFIRMED):
        return now - timedelta(days=changed_days), None
    draw = rng.randint(21, 40)
    due = timezone.make_aware(datetime.combine(round_.due_on, time(17, 0)))
    if draw > 40 - LATE_DRAWS:
        sent = due + timedelta(days=3 * (draw - 40 + LATE_DRAWS))
    else:
        sent = due - timedelta(days=draw - 20, hours=draw % 7)
    sent = min(sent, now - timedelta(days=changed_days + 7))
    if status == SS.SUBMITTED:
        return sent, sent
    return min(sent + timedelta(days=changed_days + 7), now - timedelta(days=1)), sent


def _fill(round_: SelfEvaluationRound) -> None:
    rules = services.rules_for(round_.organization.region_id, round_.fiscal_year_id)
    evaluations = list(round_.evaluations.select_related("fund", "round__organization").order_by("fund__code"))
    lines_of: dict[int, list[SelfEvaluationLine]] = {e.pk: [] for e in evaluations}
    for line in (
        SelfEvaluationLine.objects.filter(evaluation__round=round_)
        .select_related("indicator")
        .order_by("indicator__sort_order", "indicator_id")
    ):
        lines_of[line.evaluation_id].append(line)
    now = timezone.now()
    changed_lines: list[SelfEvaluationLine] = []
    adjust: list[SelfEvaluation] = []
    position = 0
    for evaluation in evaluations:
        if evaluation.fund.code in FIXED:
            status, ratio, half = FIXED[evaluation.fund.code]
        else:
            status, ratio, half = STORIES[position % len(STORIES)]
            if position % len(STORIES) == 5 and not adjust:
                adjust.append(evaluation)
            position += 1
        rng = random.Random(evaluation.fund.code)
        lines = lines_of[evaluation.pk]
        evaluation.status = status
        evaluation.status_changed_at, evaluation.submitted_at = _timestamps(round_, status, rng, now)
        if status == SS.RETURNED:
            evaluation.return_comment = RETURN_COMMENT
        if ratio is None:
            continue
        executed_ratio = min(D("1"), ratio + D("0.03"))
        executed = (evaluation.budget_amount * executed_ratio).quantize(D("0.01"))
        result, errors = services.apply_entries(
            evaluation, lines, executed, _ratio_entries(lines, ratio, rng, rules, half), rules
        )
        if not half and result.grade != scoring.grade_of(ratio * 100, rules):  # the jitter crossed a grade line
            result, errors = services.apply_entries(
                evaluation, lines, executed, _ratio_entries(lines, ratio, None, rules, half), rules
            )
        if errors:
            raise RuntimeError(f"演示数据有误：{errors}")
        if executed_ratio < 1 and not half:
            evaluation.execution_reason = "部分合同尾款待验收后支付。"
            evaluation.execution_measure = "加快项目验收，按合同及时支付。"
        evaluation.summary = "" if half else f"{evaluation.fund.name}年度任务{'全部' if ratio >= 1 else '基本'}完成。"
        services.store_result(evaluation, lines, result)
        changed_lines.extend(lines)
    SelfEvaluation.objects.bulk_update(
        evaluations,
        ["status", "status_changed_at", "submitted_at", "return_comment", "executed_amount", "execution_reason",
         "execution_measure", "summary", "score", "grade"],
        batch_size=1000,
    )  # fmt: skip
    SelfEvaluationLine.objects.bulk_update(changed_lines, services.LINE_FIELDS, batch_size=1000)
    for evaluation in adjust:
        _adjust(evaluation)


def _adjust(evaluation: SelfEvaluation) -> None:
    """Finance's spot check lowers one confirmed score, through the service as the region's finance
    demo account (so the adjustment row and the audit trail are exactly what the page makes)."""
    new_score = (evaluation.score - D("12")).quantize(scoring.CENT)  # 良 → 中
    actor = User.objects.filter(
        username="perf_admin" if evaluation.round.organization.region.is_city else "shinan_finance"
    ).first()
    if actor is not None:
        services.evaluation_adjust(actor=actor, evaluation=evaluation, new_score=new_score, reason=ADJUST_REASON)
