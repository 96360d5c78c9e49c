"""The 单位自评 scoring rules (apps/evaluations/scoring.py, domain.md section 4) at every boundary.

Expected values are computed by hand in the tables (the arithmetic is in the comments), never by
calling the module. The hypothesis properties at the end check what must hold for any valid input.
The worked example of docs/scoring.md is a test too, so the document and the code cannot drift.
"""

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.evaluations import scoring
from apps.evaluations.scoring import (
    ACHIEVED,
    COST,
    DEFAULT_RULES,
    EFFECT,
    EQ,
    EXCELLENT,
    EXECUTION,
    FAIR,
    GE,
    GOOD,
    LE,
    NOT_ACHIEVED,
    OUTPUT,
    PARTIAL,
    POOR,
    QUALITATIVE,
    SATISFACTION,
    IndicatorInput,
    Rules,
    ScoringError,
)

D = Decimal
DOC = Path(__file__).resolve().parents[1] / "docs" / "scoring.md"


def quant(name, level1, comparison, weight, target, actual, unit="", key=None):
    """A quantitative indicator row; numbers given as strings (or None)."""
    return IndicatorInput(
        key=key or name,
        name=name,
        level1=level1,
        comparison=comparison,
        weight=D(weight),
        target_value=None if target is None else D(target),
        unit=unit,
        actual_value=None if actual is None else D(actual),
    )


def qual(name, level1, weight, band, percent, key=None):
    return IndicatorInput(
        key=key or name,
        name=name,
        level1=level1,
        comparison=QUALITATIVE,
        weight=D(weight),
        band=band,
        band_percent=None if percent is None else D(percent),
    )


def met_effect():
    return quant("效益", EFFECT, GE, "10", "100", "100")


def met_satisfaction():
    return quant("满意度", SATISFACTION, GE, "10", "90", "95", "%")


def run(rows, budget="100", executed="100", rules=DEFAULT_RULES):
    return scoring.score(rules, D(budget), None if executed is None else D(executed), rows)


def category(result, code):
    return next(c for c in result.categories if c.code == code)


def line(result, key):
    return next(item for item in result.lines if item.key == key)


def all_decimal(result):
    values = [result.total]
    values += [v for item in result.lines for v in (item.points, item.max_points)]
    values += [v for c in result.categories for v in (c.points, c.weight)]
    return all(type(v) is Decimal for v in values)


# --- grades ---------------------------------------------------------------------------------
# Execution full (10), 效益 full (30), 满意度 full (10): 50 points. The only 产出 indicator is
# "≥ 100" with 分值 10 (so max 50): it scores actual ÷ 100 × 50 = actual ÷ 2, total = 50 + actual ÷ 2.

GRADE_CASES = [
    pytest.param("19.98", "59.99", POOR, id="59.99-差"),  # 50 + 19.98/2 = 50 + 9.99
    pytest.param("19.988", "59.99", POOR, id="59.994-rounds-down-差"),  # 50 + 9.994 = 59.994 → 59.99
    pytest.param("19.99", "60.00", FAIR, id="59.995-rounds-up-中"),  # 50 + 9.995 = 59.995 → 60.00
    pytest.param("20", "60.00", FAIR, id="60-中"),  # 50 + 10
    pytest.param("59.98", "79.99", FAIR, id="79.99-中"),  # 50 + 29.99
    pytest.param("59.99", "80.00", GOOD, id="79.995-rounds-up-良"),  # 50 + 29.995 = 79.995 → 80.00
    pytest.param("60", "80.00", GOOD, id="80-良"),  # 50 + 30
    pytest.param("79.98", "89.99", GOOD, id="89.99-良"),  # 50 + 39.99
    pytest.param("79.988", "89.99", GOOD, id="89.994-rounds-down-良"),  # 50 + 39.994 = 89.994 → 89.99
    pytest.param("79.99", "90.00", EXCELLENT, id="89.995-rounds-up-优"),  # 50 + 39.995 = 89.995 → 90.00
    pytest.param("80", "90.00", EXCELLENT, id="90-优"),  # 50 + 40
    pytest.param("100", "100.00", EXCELLENT, id="100-优"),  # 50 + 50
    pytest.param("0", "50.00", POOR, id="output-0-差"),  # 50 + 0
]


@pytest.mark.parametrize(("actual", "total", "grade"), GRADE_CASES)
def test_grade_is_read_off_the_rounded_total(actual, total, grade):
    rows = [quant("产出", OUTPUT, GE, "10", "100", actual), met_effect(), met_satisfaction()]
    result = run(rows)
    assert result.total == D(total)
    assert result.total.as_tuple().exponent == -2  # always two places
    assert result.grade == grade
    assert result.grade_label == scoring.GRADE_LABELS[grade]


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        pytest.param("0", POOR, id="0"),
        pytest.param("59.99", POOR, id="59.99"),
        pytest.param("60", FAIR, id="60"),
        pytest.param("79.99", FAIR, id="79.99"),
        pytest.param("80", GOOD, id="80"),
        pytest.param("89.99", GOOD, id="89.99"),
        pytest.param("90", EXCELLENT, id="90"),
        pytest.param("100", EXCELLENT, id="100"),
    ],
)
def test_grade_lines_lower_bound_inclusive(total, grade):
    assert scoring.grade_of(D(total)) == grade


def test_grade_labels_are_chinese():
    assert scoring.GRADE_LABELS == {EXCELLENT: "优", GOOD: "良", FAIR: "中", POOR: "差"}


# --- 预算执行率 -------------------------------------------------------------------------------

EXECUTION_CASES = [
    # budget, executed, points, loss reason (or ""), formula
    pytest.param("200", "150", "7.5", "预算执行率 75%，未全部执行", "min(150 ÷ 200, 1) × 10 = 7.5", id="under-75%"),
    # 150 ÷ 200 = 0.75; 0.75 × 10 = 7.5
    pytest.param("200", "200", "10", "", "min(200 ÷ 200, 1) × 10 = 10", id="exact-100%"),
    pytest.param("200", "250", "10", "", "min(250 ÷ 200, 1) × 10 = 10", id="over-125%-capped"),
    # 250 ÷ 200 = 1.25 → min(1.25, 1) = 1 → 10
    pytest.param("200", "0", "0", "预算执行率 0%，未全部执行", "min(0 ÷ 200, 1) × 10 = 0", id="nothing-executed"),
    pytest.param("0", "0", "10", "", "调整后预算为0，按满分计", id="budget-0"),
    pytest.param("0", "5", "10", "", "调整后预算为0，按满分计", id="budget-0-executed-5"),
    pytest.param("500", "499.99", "9.9998", "预算执行率 99.998%，未全部执行", "min(499.99 ÷ 500, 1) × 10 = 9.9998",
                 id="just-under"),  # 499.99 ÷ 500 = 0.99998; × 10 = 9.9998
]  # fmt: skip


@pytest.mark.parametrize(("budget", "executed", "points", "loss", "formula"), EXECUTION_CASES)
def test_execution_rate(budget, executed, points, loss, formula):
    item = scoring.execution_line(DEFAULT_RULES, D(budget), D(executed))
    assert item.key == EXECUTION and item.category == EXECUTION and item.name == "预算执行率"
    assert item.max_points == D("10")
    assert item.points == D(points)
    assert item.loss_reason == loss
    assert item.formula == formula
    assert item.missing is False
    assert item.lost == bool(loss)


def test_execution_rate_thirds_exact_until_the_total():
    # 1 ÷ 3 × 10 = 3.333…; with 产出 50 + 效益 30 + 满意度 10 full: 93.333… → 93.33
    result = run([quant("产出", OUTPUT, GE, "10", "1", "1"), met_effect(), met_satisfaction()], "3", "1")
    assert line(result, EXECUTION).points == D(1) / D(3) * D(10)
    assert line(result, EXECUTION).formula == "min(1 ÷ 3, 1) × 10 = 3.3333"
    assert result.total == D("93.33")
    assert result.grade == EXCELLENT


def test_execution_missing_scores_zero_and_is_listed():
    result = run([quant("产出", OUTPUT, GE, "10", "1", "1"), met_effect(), met_satisfaction()], "100", None)
    item = line(result, EXECUTION)
    assert (item.points, item.max_points, item.missing) == (D(0), D(10), True)
    assert item.loss_reason == "缺少实际执行数，不得分"
    assert item.formula == "未填写实际执行数"
    assert result.missing == ["预算执行率"]
    assert not result.complete
    assert result.total == D("90.00")  # 0 + 50 + 30 + 10


def test_execution_missing_with_budget_0_is_still_missing():
    item = scoring.execution_line(DEFAULT_RULES, D(0), None)
    assert item.missing and item.points == 0


# --- "≥" and "=" ----------------------------------------------------------------------------
# indicator_line with max_points 10.

GE_EQ_CASES = [
    # comparison, target, actual, points, loss reason, formula
    pytest.param(GE, "100", "100", "10", "", "实际 100件 ≥ 目标 100件，得满分", id="ge-met-exact"),
    pytest.param(GE, "100", "80", "8", "实际 80件，未达到目标 100件", "80 ÷ 100 × 10 = 8", id="ge-under"),
    # 80 ÷ 100 × 10 = 8
    pytest.param(GE, "100", "150", "10", "", "实际 150件 ≥ 目标 100件，得满分", id="ge-over-capped"),
    pytest.param(GE, "0", "0", "10", "", "实际 0件 ≥ 目标 0件，得满分", id="ge-target-0-actual-0"),
    pytest.param(GE, "0", "7", "10", "", "实际 7件 ≥ 目标 0件，得满分", id="ge-target-0-actual-7"),
    pytest.param(GE, "100", "0", "0", "实际 0件，未达到目标 100件", "0 ÷ 100 × 10 = 0", id="ge-actual-0"),
    pytest.param(GE, "3", "1", str(D(1) / D(3) * D(10)), "实际 1件，未达到目标 3件", "1 ÷ 3 × 10 = 3.3333",
                 id="ge-third"),  # 1 ÷ 3 = 0.333… (28 digits) × 10
    pytest.param(GE, "99.99", "99.98", str(D("99.98") / D("99.99") * 10), "实际 99.98件，未达到目标 99.99件",
                 "99.98 ÷ 99.99 × 10 = 9.999", id="ge-just-under"),  # 9.99899989… shown as 9.999
    pytest.param(EQ, "100", "100", "10", "", "实际 100件 ≥ 目标 100件，得满分", id="eq-met"),
    pytest.param(EQ, "100", "95", "9.5", "实际 95件，未达到目标 100件", "95 ÷ 100 × 10 = 9.5", id="eq-under"),
    # 95 ÷ 100 × 10 = 9.5
    pytest.param(EQ, "100", "105", "10", "", "实际 105件 ≥ 目标 100件，得满分", id="eq-over-capped"),
    pytest.param(EQ, "0", "0", "10", "", "实际 0件 ≥ 目标 0件，得满分", id="eq-target-0"),
    pytest.param(EQ, "100", "0", "0", "实际 0件，未达到目标 100件", "0 ÷ 100 × 10 = 0", id="eq-actual-0"),
]  # fmt: skip

LE_CASES = [
    pytest.param("100", "90", "10", "", "实际 90件 ≤ 目标 100件，得满分", id="le-met-under"),
    pytest.param("100", "100", "10", "", "实际 100件 ≤ 目标 100件，得满分", id="le-met-exact"),
    pytest.param("100", "125", "8", "实际 125件，超过目标上限 100件", "100 ÷ 125 × 10 = 8", id="le-over"),
    # 100 ÷ 125 = 0.8; × 10 = 8
    pytest.param("100", "400", "2.5", "实际 400件，超过目标上限 100件", "100 ÷ 400 × 10 = 2.5", id="le-4x-over"),
    # 100 ÷ 400 = 0.25; × 10 = 2.5
    pytest.param("0", "5", "0", "实际 5件，超过目标上限 0件", "0 ÷ 5 × 10 = 0", id="le-target-0-actual-5"),
    pytest.param("10", "0", "10", "", "实际 0件 ≤ 目标 10件，得满分", id="le-actual-0"),
    pytest.param("0", "0", "10", "", "实际 0件 ≤ 目标 0件，得满分", id="le-target-0-actual-0"),
]  # fmt: skip


def _indicator(comparison, target, actual, max_points="10"):
    row = quant("指标", OUTPUT, comparison, "5", target, actual, "件")
    return scoring.indicator_line(DEFAULT_RULES, row, OUTPUT, D(max_points))


@pytest.mark.parametrize(("comparison", "target", "actual", "points", "loss", "formula"), GE_EQ_CASES)
def test_ge_and_eq(comparison, target, actual, points, loss, formula):
    item = _indicator(comparison, target, actual)
    assert item.points == D(points)
    assert item.max_points == D(10)
    assert item.loss_reason == loss
    assert item.formula == formula
    assert item.lost == bool(loss)
    assert not item.missing


@pytest.mark.parametrize(("target", "actual", "points", "loss", "formula"), LE_CASES)
def test_le(target, actual, points, loss, formula):
    item = _indicator(LE, target, actual)
    assert item.points == D(points)
    assert item.loss_reason == loss
    assert item.formula == formula
    assert item.lost == bool(loss)


@pytest.mark.parametrize("comparison", [GE, EQ, LE])
def test_missing_actual_scores_zero(comparison):
    item = _indicator(comparison, "100", None)
    assert (item.points, item.missing) == (D(0), True)
    assert item.loss_reason == "缺少实际完成值，不得分"
    assert item.formula == "未填写实际完成值"


def test_missing_values_listed_in_result_and_block_completion():
    rows = [
        quant("培训人次", OUTPUT, GE, "10", "100", None),
        quant("项目完成率", OUTPUT, GE, "10", "100", "100"),
        qual("群众获得感", EFFECT, "10", "", None),
        quant("满意度", SATISFACTION, GE, "10", "90", None),
    ]
    result = run(rows, "100", None)
    assert result.missing == ["预算执行率", "培训人次", "群众获得感", "满意度"]
    assert not result.complete
    # only 项目完成率 scores: 50 × 10 ÷ 20 = 25
    assert result.total == D("25.00")
    assert all(item.points == 0 for item in result.lines if item.missing)


# --- 定性 bands ------------------------------------------------------------------------------

BAND_CASES = [
    # band, percent, points of a 10-point indicator (= percent ÷ 100 × 10)
    pytest.param(ACHIEVED, "80", "8", id="达成-lower-80"),
    pytest.param(ACHIEVED, "90", "9", id="达成-90"),
    pytest.param(ACHIEVED, "100", "10", id="达成-upper-100-inclusive"),
    pytest.param(PARTIAL, "60", "6", id="部分达成-lower-60"),
    pytest.param(PARTIAL, "79.99", "7.999", id="部分达成-upper-79.99"),
    pytest.param(NOT_ACHIEVED, "0", "0", id="未达成-lower-0"),
    pytest.param(NOT_ACHIEVED, "59.99", "5.999", id="未达成-upper-59.99"),
]


@pytest.mark.parametrize(("band", "percent", "points"), BAND_CASES)
def test_qualitative_bands(band, percent, points):
    row = qual("社会影响", EFFECT, "10", band, percent)
    item = scoring.indicator_line(DEFAULT_RULES, row, EFFECT, D("10"))
    assert item.points == D(points)
    label = scoring.BAND_LABELS[band]
    assert item.formula == f"{label} {scoring.fmt(D(percent))}% × 10 = {scoring.fmt(D(points))}"
    if percent == "100":
        assert item.loss_reason == "" and not item.lost
    else:
        assert item.loss_reason == f"定性指标评定为{label}（{percent}%）"


BAND_OUTSIDE = [
    pytest.param(ACHIEVED, "79.99", "[80, 100]", id="达成-below-80"),
    pytest.param(ACHIEVED, "100.01", "[80, 100]", id="达成-above-100"),
    pytest.param(PARTIAL, "80", "[60, 80)", id="部分达成-80-exclusive"),
    pytest.param(PARTIAL, "59.99", "[60, 80)", id="部分达成-below-60"),
    pytest.param(NOT_ACHIEVED, "60", "[0, 60)", id="未达成-60-exclusive"),
    pytest.param(NOT_ACHIEVED, "-1", "[0, 60)", id="未达成-negative"),
]


@pytest.mark.parametrize(("band", "percent", "interval"), BAND_OUTSIDE)
def test_qualitative_percent_outside_band_refused(band, percent, interval):
    rows = [quant("产出", OUTPUT, GE, "10", "1", "1"), qual("社会影响", EFFECT, "10", band, percent)]
    label = scoring.BAND_LABELS[band]
    with pytest.raises(ScoringError) as exc:
        run(rows)
    assert str(exc.value) == f"“社会影响”选择{label}时，得分比例应在 {interval} 之间"


@pytest.mark.parametrize(
    ("band", "percent"),
    [pytest.param("", None, id="nothing"), pytest.param(ACHIEVED, None, id="band-no-percent"),
     pytest.param("", "90", id="percent-no-band")],
)  # fmt: skip
def test_qualitative_missing_band(band, percent):
    row = qual("社会影响", EFFECT, "10", band, percent)
    item = scoring.indicator_line(DEFAULT_RULES, row, EFFECT, D("10"))
    assert (item.points, item.missing) == (D(0), True)
    assert item.loss_reason == "缺少完成程度，不得分"


def test_qualitative_unknown_band_refused():
    with pytest.raises(ScoringError, match="未知的完成程度“excellent”"):
        run([quant("产出", OUTPUT, GE, "10", "1", "1"), qual("社会影响", EFFECT, "10", "excellent", "90")])


# --- refused input --------------------------------------------------------------------------

NEGATIVE_CASES = [
    pytest.param("-1", "1", [], "调整后预算不能为负数", id="budget"),
    pytest.param("1", "-0.01", [], "实际执行数不能为负数", id="executed"),
    pytest.param("1", "1", [quant("培训人次", OUTPUT, GE, "10", "100", "-1")], "“培训人次”的实际完成值不能为负数",
                 id="actual"),
    pytest.param("1", "1", [quant("培训人次", OUTPUT, LE, "10", "-5", "1")], "“培训人次”的目标值不能为负数",
                 id="target"),
    pytest.param("1", "1", [quant("培训人次", OUTPUT, GE, "-10", "100", "1")], "“培训人次”的分值不能为负数",
                 id="weight"),
    pytest.param("1", "1", [quant("培训人次", OUTPUT, GE, "10", "-5", None)], "“培训人次”的目标值不能为负数",
                 id="target-with-missing-actual"),
]  # fmt: skip


@pytest.mark.parametrize(("budget", "executed", "rows", "message"), NEGATIVE_CASES)
def test_negative_numbers_refused(budget, executed, rows, message):
    with pytest.raises(ScoringError) as exc:
        run(rows, budget, executed)
    assert str(exc.value) == message


def test_other_unscorable_rows_refused():
    with pytest.raises(ScoringError, match="“培训人次”没有目标值，无法计分"):
        run([quant("培训人次", OUTPUT, GE, "10", None, "5")])
    with pytest.raises(ScoringError, match="一级指标“process”无法计分"):
        run([quant("培训人次", "process", GE, "10", "1", "5")])
    with pytest.raises(ScoringError, match="比较方式“gt”无法计分"):
        run([quant("培训人次", OUTPUT, "gt", "10", "1", "5")])
    assert issubclass(ScoringError, ValueError)


# --- categories -----------------------------------------------------------------------------


def test_missing_satisfaction_moves_its_weight_to_effect():
    # 产出: one indicator 10/10 → 50; 效益: 分值 10 and 30, each half met → (40 × 10/40 + 40 × 30/40) × 0.5
    rows = [
        quant("产出", OUTPUT, GE, "10", "10", "10"),
        quant("效益甲", EFFECT, GE, "10", "10", "5"),
        quant("效益乙", EFFECT, GE, "30", "10", "5"),
    ]
    result = run(rows)
    effect, satisfaction = category(result, EFFECT), category(result, SATISFACTION)
    assert effect.weight == D(40)  # 30 + 10
    assert effect.note == "含满意度指标权重 10 分"
    assert (satisfaction.weight, satisfaction.points) == (D(0), D(0))
    assert satisfaction.note == "未设置满意度指标，其权重并入效益指标"
    assert line(result, "效益甲").max_points == D(10)  # 40 × 10 ÷ 40
    assert line(result, "效益乙").max_points == D(30)  # 40 × 30 ÷ 40
    assert effect.points == D(20)  # 5 + 15
    assert result.total == D("80.00")  # 10 + 50 + 20 + 0
    assert [c.code for c in result.categories] == [EXECUTION, OUTPUT, EFFECT, SATISFACTION]


def test_with_satisfaction_weights_are_the_defaults():
    result = run([quant("产出", OUTPUT, GE, "10", "10", "10"), met_effect(), met_satisfaction()])
    assert [(c.code, c.weight, c.note) for c in result.categories] == [
        (EXECUTION, D(10), ""),
        (OUTPUT, D(50), ""),
        (EFFECT, D(30), ""),
        (SATISFACTION, D(10), ""),
    ]
    assert result.total == D("100.00")


@pytest.mark.parametrize(
    ("rows", "absent", "weight", "note", "total"),
    [
        pytest.param([met_effect(), met_satisfaction()], OUTPUT, D(50), "未设置产出指标，该类 50 分不得分", "50.00",
                     id="no-output"),  # 10 + 0 + 30 + 10
        pytest.param([quant("产出", OUTPUT, GE, "1", "1", "1"), met_satisfaction()], EFFECT, D(30),
                     "未设置效益指标，该类 30 分不得分", "70.00", id="no-effect"),  # 10 + 50 + 0 + 10
        pytest.param([quant("产出", OUTPUT, GE, "1", "1", "1")], EFFECT, D(40), "未设置效益指标，该类 40 分不得分",
                     "60.00", id="no-effect-no-satisfaction"),  # 10 + 50 + 0 (30 + 10 moved) + 0
        pytest.param([], OUTPUT, D(50), "未设置产出指标，该类 50 分不得分", "10.00", id="no-indicators-at-all"),
    ],
)  # fmt: skip
def test_category_without_indicators_scores_zero_and_says_why(rows, absent, weight, note, total):
    result = run(rows)
    cat = category(result, absent)
    assert (cat.weight, cat.points, cat.note) == (weight, D(0), note)
    assert result.total == D(total)
    assert not any(item.category == absent for item in result.lines)


def test_cost_indicators_are_scored_inside_output():
    # 产出 分值 30 + 成本 分值 20 = 50 → max 30 and 20 of the 50 产出 points.
    # 成本 "≤ 4" with actual 5: 4 ÷ 5 × 20 = 16. Total 10 + (30 + 16) + 30 + 10 = 96.
    rows = [
        quant("完成改造", OUTPUT, GE, "30", "10", "12"),
        quant("单位成本", COST, LE, "20", "4", "5", "万元"),
        met_effect(),
        met_satisfaction(),
    ]
    result = run(rows)
    cost = line(result, "单位成本")
    assert cost.category == OUTPUT
    assert (cost.max_points, cost.points) == (D(20), D(16))
    assert cost.formula == "4 ÷ 5 × 20 = 16"
    assert cost.loss_reason == "实际 5万元，超过目标上限 4万元"
    assert category(result, OUTPUT).points == D(46)
    assert COST not in [c.code for c in result.categories]
    assert result.total == D("96.00")


def test_only_cost_indicators_fill_output():
    result = run([quant("单位成本", COST, LE, "5", "4", "3"), met_effect(), met_satisfaction()])
    assert category(result, OUTPUT).note == ""
    assert result.total == D("100.00")


@pytest.mark.parametrize(
    ("weights", "maxima"),
    [
        pytest.param(["20", "10", "10"], ["25", "12.5", "12.5"], id="20-10-10"),  # 50 × 20/40, 50 × 10/40
        pytest.param(["1", "1", "2"], ["12.5", "12.5", "25"], id="1-1-2"),  # 50 × 1/4, 50 × 2/4
        pytest.param(["50", "0"], ["50", "0"], id="zero-among-nonzero"),  # 50 × 50/50, 50 × 0/50
        pytest.param(["0", "0"], ["25", "25"], id="all-zero-shared-equally"),  # 50 ÷ 2
        pytest.param(["0", "0", "0", "0"], ["12.5", "12.5", "12.5", "12.5"], id="all-zero-4"),  # 50 ÷ 4
        pytest.param(["7"], ["50"], id="single"),
    ],
)
def test_points_scaled_within_category_by_weight(weights, maxima):
    rows = [quant(f"产出{i}", OUTPUT, GE, w, "10", "10") for i, w in enumerate(weights)]
    result = run([*rows, met_effect(), met_satisfaction()])
    assert [line(result, r.key).max_points for r in rows] == [D(m) for m in maxima]
    assert [line(result, r.key).points for r in rows] == [D(m) for m in maxima]  # all met
    assert result.total == D("100.00")


def test_all_zero_weights_thirds():
    rows = [quant(f"产出{i}", OUTPUT, GE, "0", "10", "10") for i in range(3)]
    result = run([*rows, met_effect(), met_satisfaction()])
    third = D(50) * (D(1) / D(3))  # 16.666… to 28 digits
    assert [line(result, r.key).max_points for r in rows] == [third] * 3
    assert result.total == D("100.00")


# --- configurable rules ---------------------------------------------------------------------


def test_configured_weights():
    rules = Rules(weight_execution=D(20), weight_output=D(40), weight_effect=D(25), weight_satisfaction=D(15))
    rows = [
        quant("产出", OUTPUT, GE, "10", "10", "5"),  # 5 ÷ 10 × 40 = 20
        quant("效益", EFFECT, GE, "10", "10", "8"),  # 8 ÷ 10 × 25 = 20
        quant("满意度", SATISFACTION, GE, "10", "90", "90"),  # 15
    ]
    result = run(rows, "100", "50", rules)  # 50 ÷ 100 × 20 = 10
    assert [c.points for c in result.categories] == [D(10), D(20), D(20), D(15)]
    assert result.total == D("65.00")  # 10 + 20 + 20 + 15
    assert result.grade == FAIR
    # Without 满意度 its 15 go to 效益: 8 ÷ 10 × 40 = 32
    result = run(rows[:2], "100", "50", rules)
    assert category(result, EFFECT).weight == D(40)
    assert category(result, EFFECT).note == "含满意度指标权重 15 分"
    assert result.total == D("62.00")  # 10 + 20 + 32


@pytest.mark.parametrize(
    ("band", "percent", "ok"),
    [
        pytest.param(ACHIEVED, "85", True, id="达成-85-ok"),
        pytest.param(ACHIEVED, "84.99", False, id="达成-84.99-refused"),
        pytest.param(PARTIAL, "84.99", True, id="部分达成-84.99-ok"),
        pytest.param(PARTIAL, "85", False, id="部分达成-85-refused"),
        pytest.param(PARTIAL, "50", True, id="部分达成-50-ok"),
        pytest.param(PARTIAL, "49.99", False, id="部分达成-49.99-refused"),
        pytest.param(NOT_ACHIEVED, "49.99", True, id="未达成-49.99-ok"),
        pytest.param(NOT_ACHIEVED, "50", False, id="未达成-50-refused"),
    ],
)
def test_configured_band_limits(band, percent, ok):
    rules = Rules(band_achieved_min=D(85), band_partial_min=D(50))
    row = qual("社会影响", EFFECT, "10", band, percent)
    if ok:
        item = scoring.indicator_line(rules, row, EFFECT, D(20))
        assert item.points == D(percent) / D(100) * D(20)
    else:
        with pytest.raises(ScoringError, match="得分比例应在"):
            scoring.indicator_line(rules, row, EFFECT, D(20))


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        pytest.param("94.99", GOOD, id="94.99-良"),
        pytest.param("95", EXCELLENT, id="95-优"),
        pytest.param("84.99", FAIR, id="84.99-中"),
        pytest.param("85", GOOD, id="85-良"),
        pytest.param("69.99", POOR, id="69.99-差"),
        pytest.param("70", FAIR, id="70-中"),
    ],
)
def test_configured_grade_lines(total, grade):
    rules = Rules(grade_excellent=D(95), grade_good=D(85), grade_fair=D(70))
    assert scoring.grade_of(D(total), rules) == grade


def test_configured_grade_lines_through_score():
    rules = Rules(grade_excellent=D(95), grade_good=D(85), grade_fair=D(70))
    rows = [quant("产出", OUTPUT, GE, "10", "100", "80"), met_effect(), met_satisfaction()]
    result = run(rows, rules=rules)  # 50 + 80 ÷ 2 = 90: 优 by default, 良 here
    assert (result.total, result.grade) == (D("90.00"), GOOD)


# --- Decimal exactness ----------------------------------------------------------------------


def test_thirds_all_met_sum_to_full_points():
    # 产出: three equal indicators → 50/3 each; 效益: three → 30/3; 满意度: three → 10/3.
    rows = [quant(f"{code}{i}", code, GE, "1", "3", "3") for code in (OUTPUT, EFFECT, SATISFACTION) for i in range(3)]
    result = run(rows, "3", "3")
    assert result.total == D("100.00")
    assert str(result.total) == "100.00"
    assert result.grade == EXCELLENT
    assert all_decimal(result)
    assert not any(item.lost for item in result.lines)


def test_thirds_partially_met_round_half_up_at_the_end_only():
    # 产出: three indicators of 50/3, each 2 ÷ 3 met → 3 × (2/3 × 50/3) = 100/3 = 33.333…
    # 效益 and 满意度 full (40). Execution 1 ÷ 3 × 10 = 3.333…
    # exact total 76.666… → 76.67 (rounding each line to 2 places first would give 3 × 11.11 + 3.33 + 40 = 76.66)
    rows = [quant(f"产出{i}", OUTPUT, GE, "1", "3", "2") for i in range(3)]
    result = run([*rows, met_effect(), met_satisfaction()], "3", "1")
    assert result.total == D("76.67")
    assert result.grade == FAIR
    assert all_decimal(result)


def test_no_float_anywhere_even_with_decimal_fractions():
    # 0.1 + 0.2 style: target 0.3, actual 0.1 + 0.2 written as 0.3 → met exactly (no binary float)
    rows = [quant("产出", OUTPUT, EQ, "0.1", "0.3", "0.3"), met_effect(), met_satisfaction()]
    result = run(rows, "0.3", "0.3")
    assert result.total == D("100.00")
    assert all_decimal(result)
    assert all(type(c.points) is Decimal for c in result.categories)


# --- explanations ---------------------------------------------------------------------------


def test_every_lost_line_is_explained_with_its_numbers():
    rows = [
        quant("培训人次", OUTPUT, GE, "20", "200", "150", "人次"),  # 150 ÷ 200 × 25 = 18.75
        quant("合格率", OUTPUT, EQ, "10", "100", "96", "%"),  # 96 ÷ 100 × 12.5 = 12
        quant("完成时间", OUTPUT, LE, "10", "30", "40", "天"),  # 30 ÷ 40 × 12.5 = 9.375
        quant("覆盖人数", EFFECT, GE, "10", "1000", "1200", "人"),  # met: 20
        qual("社会影响", EFFECT, "10", PARTIAL, "70"),  # 70% × 20 = 14
    ]
    result = run(rows, "80", "60")  # 60 ÷ 80 × 10 = 7.5
    expected = {
        EXECUTION: ("min(60 ÷ 80, 1) × 10 = 7.5", "预算执行率 75%，未全部执行"),
        "培训人次": ("150 ÷ 200 × 25 = 18.75", "实际 150人次，未达到目标 200人次"),
        "合格率": ("96 ÷ 100 × 12.5 = 12", "实际 96%，未达到目标 100%"),
        "完成时间": ("30 ÷ 40 × 12.5 = 9.375", "实际 40天，超过目标上限 30天"),
        "覆盖人数": ("实际 1200人 ≥ 目标 1000人，得满分", ""),
        "社会影响": ("部分达成 70% × 20 = 14", "定性指标评定为部分达成（70%）"),
    }
    assert {item.key: (item.formula, item.loss_reason) for item in result.lines} == expected
    for item in result.lines:
        assert item.lost == bool(item.loss_reason)
    # 7.5 + (18.75 + 12 + 9.375) + (20 + 14) + 0 = 81.625 → 81.63
    assert result.total == D("81.63")
    assert result.grade == GOOD


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(D("12.50"), "12.5", id="trailing-zeros"),
        pytest.param(D("1E+2"), "100", id="no-exponent"),
        pytest.param(D(1) / D(3), "0.3333", id="four-places"),
        pytest.param(D("0.00005"), "0.0001", id="half-up"),
        pytest.param(D("0"), "0", id="zero"),
    ],
)
def test_fmt(value, text):
    assert scoring.fmt(value) == text


# --- the worked example of docs/scoring.md --------------------------------------------------
# 2025年中小学教学设备更新专项资金: 调整后预算 500 万元, 实际执行 430 万元, no 满意度 indicator.

WORKED_ROWS = [
    quant("更新多媒体教室数量", OUTPUT, GE, "20", "120", "126", "间"),
    quant("设备验收合格率", OUTPUT, EQ, "10", "100", "98", "%"),
    quant("每间教室设备购置成本", COST, LE, "10", "3.5", "3.6", "万元"),
    quant("受益学生人数", EFFECT, GE, "10", "30000", "24000", "人"),
    quant("设备完好率", EFFECT, GE, "5", "95", "97", "%"),
    qual("教师信息化教学能力提升", EFFECT, "5", PARTIAL, "70"),
]
# name → (max points, points shown to 4 places, formula, loss reason), all as written in the document.
WORKED_LINES = {
    # 430 ÷ 500 = 0.86; × 10 = 8.6
    "预算执行率": ("10", "8.6", "min(430 ÷ 500, 1) × 10 = 8.6", "预算执行率 86%，未全部执行"),
    # 产出 50 over 分值 20 + 10 + 10 = 40: 50 × 20/40 = 25, 50 × 10/40 = 12.5
    "更新多媒体教室数量": ("25", "25", "实际 126间 ≥ 目标 120间，得满分", ""),
    "设备验收合格率": ("12.5", "12.25", "98 ÷ 100 × 12.5 = 12.25", "实际 98%，未达到目标 100%"),
    # 3.5 ÷ 3.6 = 0.97222…; × 12.5 = 12.152777…
    "每间教室设备购置成本": (
        "12.5",
        "12.1528",
        "3.5 ÷ 3.6 × 12.5 = 12.1528",
        "实际 3.6万元，超过目标上限 3.5万元",
    ),
    # 效益 30 + 满意度 10 = 40 over 分值 10 + 5 + 5 = 20: 40 × 10/20 = 20, 40 × 5/20 = 10
    "受益学生人数": ("20", "16", "24000 ÷ 30000 × 20 = 16", "实际 24000人，未达到目标 30000人"),
    "设备完好率": ("10", "10", "实际 97% ≥ 目标 95%，得满分", ""),
    "教师信息化教学能力提升": ("10", "7", "部分达成 70% × 10 = 7", "定性指标评定为部分达成（70%）"),
}
# 8.6 + (25 + 12.25 + 12.152777…) + (16 + 10 + 7) = 8.6 + 49.402777… + 33 = 91.002777… → 91.00 优
WORKED_TOTAL, WORKED_GRADE = D("91.00"), "优"


def test_worked_example_of_the_user_guide():
    result = run(WORKED_ROWS, "500", "430")
    got = {
        item.name: (scoring.fmt(item.max_points), scoring.fmt(item.points), item.formula, item.loss_reason)
        for item in result.lines
    }
    assert got == WORKED_LINES
    assert [(c.code, scoring.fmt(c.weight), scoring.fmt(c.points)) for c in result.categories] == [
        (EXECUTION, "10", "8.6"),
        (OUTPUT, "50", "49.4028"),
        (EFFECT, "40", "33"),
        (SATISFACTION, "0", "0"),
    ]
    assert sum(c.points for c in result.categories) == D("8.6") + D("37.25") + D("3.5") / D("3.6") * D("12.5") + 33
    assert (result.total, result.grade_label) == (WORKED_TOTAL, WORKED_GRADE)
    assert result.complete


def test_worked_example_figures_are_the_ones_in_the_document():
    """Each line of the document's table (序号, 一级, 三级, 指标值, 分值, 实际, 最高得分, 计算式, 得分, 扣分原因)."""
    text = DOC.read_text(encoding="utf-8")
    rows = [
        [cell.strip() for cell in row.strip().strip("|").split("|")]
        for row in text.splitlines()
        if row.startswith("|") and row.count("|") == 11
    ]
    table = {cells[2]: cells for cells in rows if cells[2] in WORKED_LINES}
    assert set(table) == set(WORKED_LINES)
    for name, (maximum, points, formula, loss) in WORKED_LINES.items():
        cells = table[name]
        assert cells[6] == maximum, name
        assert cells[7] == formula, name
        assert cells[8].rstrip("…") == points, name
        assert cells[9] == loss if loss else cells[9].startswith("—"), name
    for figure in ("500.00 万元", "430.00 万元", "49.4028", "91.0028", "**91.00**", "**优**", "含满意度指标权重 10 分"):
        assert figure in text, figure


# --- properties -----------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
amounts = st.integers(0, 10**10).map(lambda n: D(n) / 100)  # 0 … 100,000,000.00, two places
values = st.integers(0, 10**8).map(lambda n: D(n) / 100)
positive = st.integers(1, 10**8).map(lambda n: D(n) / 100)
weights = st.integers(0, 30).map(D)
LEVEL1S = [OUTPUT, COST, EFFECT, SATISFACTION]


@st.composite
def rules_strategy(draw):
    """Any rules whose four weights add up to 100, with valid band limits (grade lines default)."""
    a, b, c = sorted(draw(st.lists(st.integers(0, 100), min_size=3, max_size=3)))
    partial = draw(st.integers(1, 98))
    achieved = draw(st.integers(partial + 1, 99))
    return Rules(
        weight_execution=D(a),
        weight_output=D(b - a),
        weight_effect=D(c - b),
        weight_satisfaction=D(100 - c),
        band_achieved_min=D(achieved),
        band_partial_min=D(partial),
    )


rules_any = st.one_of(st.just(DEFAULT_RULES), rules_strategy())


@st.composite
def indicator(draw, rules, key, level1=None, comparison=None, with_actual=False):
    level1 = level1 or draw(st.sampled_from(LEVEL1S))
    comparison = comparison or draw(st.sampled_from([GE, LE, EQ, QUALITATIVE]))
    weight = draw(weights)
    if comparison == QUALITATIVE:
        band = draw(st.sampled_from([ACHIEVED, PARTIAL, NOT_ACHIEVED, ""]))
        if not band:
            return IndicatorInput(key, f"指标{key}", level1, comparison, weight)
        low, high, inclusive = rules.band_limits(band)
        hundredths = draw(st.integers(int(low * 100), int(high * 100) - (0 if inclusive else 1)))
        return IndicatorInput(
            key, f"指标{key}", level1, comparison, weight, band=band, band_percent=D(hundredths) / 100
        )
    actual = draw(values if with_actual else st.one_of(st.none(), values))
    return IndicatorInput(key, f"指标{key}", level1, comparison, weight, draw(values), "件", actual)


@st.composite
def scenario(draw, rules=rules_any, min_size=1, forced=()):
    """(rules, budget, executed, rows): 1–12 indicators; ``forced`` rows (kwargs) placed randomly."""
    rules = draw(rules)
    budget = draw(amounts)
    executed = draw(st.one_of(st.none(), amounts))
    count = draw(st.integers(min_size, 12 - len(forced)))
    rows = [draw(indicator(rules, i)) for i in range(count)]
    for j, kwargs in enumerate(forced):
        row = draw(indicator(rules, 100 + j, **kwargs))
        rows.insert(draw(st.integers(0, len(rows))), row)
    return rules, budget, executed, rows


@PROPERTY_SETTINGS
@given(scenario())
def test_property_total_between_0_and_100(case):
    rules, budget, executed, rows = case
    result = scoring.score(rules, budget, executed, rows)
    assert D(0) <= result.total <= D(100)
    assert result.total.as_tuple().exponent == -2
    assert all_decimal(result)
    for item in result.lines:
        assert D(0) <= item.points <= item.max_points
        if item.lost:
            assert item.loss_reason and item.formula
    for cat in result.categories[1:]:
        assert cat.points == sum((i.points for i in result.lines if i.category == cat.code), D(0))
    assert result.missing == [i.name for i in result.lines if i.missing]
    if rules == DEFAULT_RULES:
        expected = (
            EXCELLENT if result.total >= 90 else GOOD if result.total >= 80 else FAIR if result.total >= 60 else POOR
        )
        assert result.grade == expected


def _exact(result):
    return sum((c.points for c in result.categories), D(0))


@PROPERTY_SETTINGS
@given(scenario(forced=[{"comparison": GE, "with_actual": True}]), positive, st.sampled_from([GE, EQ]))
def test_property_monotone_non_decreasing_for_ge(case, raise_by, comparison):
    rules, budget, executed, rows = case
    i = next(n for n, r in enumerate(rows) if r.key == 100)
    rows[i] = replace(rows[i], comparison=comparison)
    before = scoring.score(rules, budget, executed, rows)
    rows[i] = replace(rows[i], actual_value=rows[i].actual_value + raise_by)
    after = scoring.score(rules, budget, executed, rows)
    assert _exact(after) >= _exact(before)
    assert after.total >= before.total


@PROPERTY_SETTINGS
@given(scenario(forced=[{"comparison": LE, "with_actual": True}]), positive)
def test_property_monotone_non_increasing_for_le(case, raise_by):
    rules, budget, executed, rows = case
    i = next(n for n, r in enumerate(rows) if r.key == 100)
    before = scoring.score(rules, budget, executed, rows)
    rows[i] = replace(rows[i], actual_value=rows[i].actual_value + raise_by)
    after = scoring.score(rules, budget, executed, rows)
    assert _exact(after) <= _exact(before)
    assert after.total <= before.total


@PROPERTY_SETTINGS
@given(scenario(), amounts)
def test_property_more_execution_never_lowers_the_total(case, raise_by):
    rules, budget, executed, rows = case
    before = scoring.score(rules, budget, executed, rows)
    after = scoring.score(rules, budget, (executed or D(0)) + raise_by, rows)
    assert after.total >= before.total


@PROPERTY_SETTINGS
@given(scenario(forced=[{"comparison": GE}]), values)
def test_property_filling_in_a_missing_actual_never_lowers_the_total(case, actual):
    rules, budget, executed, rows = case
    i = next(n for n, r in enumerate(rows) if r.key == 100)
    rows[i] = replace(rows[i], actual_value=None)
    before = scoring.score(rules, budget, executed, rows)
    rows[i] = replace(rows[i], actual_value=actual)
    after = scoring.score(rules, budget, executed, rows)
    assert after.total >= before.total
    assert len(after.missing) == len(before.missing) - 1


@st.composite
def everything_met(draw):
    rules, budget, executed, rows = draw(scenario(forced=[{"level1": code} for code in (OUTPUT, EFFECT)], min_size=0))
    met = []
    for row in rows:
        if row.comparison == QUALITATIVE:
            met.append(replace(row, band=ACHIEVED, band_percent=D(100)))
        elif row.comparison == LE:
            met.append(replace(row, actual_value=row.target_value * draw(st.integers(0, 100)) / 100))
        else:
            met.append(replace(row, actual_value=row.target_value + draw(values)))
    return rules, budget, budget + draw(values), met


@PROPERTY_SETTINGS
@given(everything_met())
def test_property_full_marks_when_everything_is_met(case):
    rules, budget, executed, rows = case
    result = scoring.score(rules, budget, executed, rows)
    assert result.total == D("100.00")
    assert result.grade == EXCELLENT
    assert result.complete
    assert not any(item.lost or item.loss_reason for item in result.lines)


@PROPERTY_SETTINGS
@given(scenario(forced=[{"level1": code} for code in (OUTPUT, EFFECT, SATISFACTION)], min_size=0))
def test_property_max_points_add_up_to_the_category_weights(case):
    rules, budget, executed, rows = case
    result = scoring.score(rules, budget, executed, rows)
    tolerance = D("1e-20")
    total_weight = rules.weight_execution + rules.weight_output + rules.weight_effect + rules.weight_satisfaction
    assert abs(sum((item.max_points for item in result.lines), D(0)) - total_weight) <= tolerance
    for cat in result.categories:
        in_cat = sum((item.max_points for item in result.lines if item.category == cat.code), D(0))
        assert abs(in_cat - cat.weight) <= tolerance
