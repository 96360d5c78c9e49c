"""Self-evaluation scoring (单位自评计分), exactly the rules of domain.md (财预〔2020〕10号).

Pure functions over plain values: no database, no Django. ``score()`` takes the rules, the budget
execution and the indicator rows and returns the total, the grade and one explained line per item,
so a unit sees every lost point and finance can defend every grade.

The rules, in order:

1. Categories and weights (configurable per region and year): 预算执行率 10, 产出 50, 效益 30,
   满意度 10. Without a 满意度 indicator its weight moves to 效益. 成本指标 (the optional 一级 of the
   2021 central guideline) is scored inside 产出, where the 2020 rule puts cost. A category that
   has no indicator at all scores 0 and says so (the target should not have been approved that way).
2. Within a category an indicator's maximum points are its 分值 scaled to the category weight
   (category weight × 分值 / sum of 分值); if every 分值 is 0 the category is shared equally.
3. 预算执行率 points = min(executed / adjusted budget, 1) × weight. A budget of 0 scores full points.
4. "≥" and "=": met (actual ≥ target) → full points, else actual / target × points. Target 0 is
   always met.
5. "≤" (cost, time): met (actual ≤ target) → full points, else target / actual × points.
6. 定性: the evaluator picks a band and a percentage inside it: 达成 [80, 100], 部分达成 [60, 80),
   未达成 [0, 60) (limits configurable); points = percentage × points.
7. Over-completion never earns more than full points. A missing actual scores 0, is reported as
   missing and blocks submission. Negative numbers are refused (``ScoringError``).
8. Arithmetic is Decimal and exact; only the total is rounded (2 places, half up), and the grade
   is read off the rounded total: 优 ≥ 90, 良 ≥ 80, 中 ≥ 60, 差 < 60 (lower bounds inclusive).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0")
HUNDRED = Decimal("100")
CENT = Decimal("0.01")

EXECUTION = "execution"
OUTPUT = "output"
EFFECT = "effect"
SATISFACTION = "satisfaction"
COST = "cost"
CATEGORY_LABELS = {EXECUTION: "预算执行率", OUTPUT: "产出指标", EFFECT: "效益指标", SATISFACTION: "满意度指标"}
# 一级 code of an indicator → the category it is scored in.
CATEGORY_OF_LEVEL1 = {OUTPUT: OUTPUT, COST: OUTPUT, EFFECT: EFFECT, SATISFACTION: SATISFACTION}

GE, LE, EQ, QUALITATIVE = "ge", "le", "eq", "qualitative"

ACHIEVED, PARTIAL, NOT_ACHIEVED = "achieved", "partial", "not_achieved"
BAND_LABELS = {ACHIEVED: "达成", PARTIAL: "部分达成", NOT_ACHIEVED: "未达成"}

EXCELLENT, GOOD, FAIR, POOR = "excellent", "good", "fair", "poor"
GRADE_LABELS = {EXCELLENT: "优", GOOD: "良", FAIR: "中", POOR: "差"}


class ScoringError(ValueError):
    """Input the rules cannot score (a negative number, a percentage outside its band)."""


@dataclass(frozen=True)
class Rules:
    weight_execution: Decimal = Decimal("10")
    weight_output: Decimal = Decimal("50")
    weight_effect: Decimal = Decimal("30")
    weight_satisfaction: Decimal = Decimal("10")
    band_achieved_min: Decimal = Decimal("80")  # 达成 [80, 100]
    band_partial_min: Decimal = Decimal("60")  # 部分达成 [60, 80); 未达成 [0, 60)
    grade_excellent: Decimal = Decimal("90")
    grade_good: Decimal = Decimal("80")
    grade_fair: Decimal = Decimal("60")

    def band_limits(self, band: str) -> tuple[Decimal, Decimal, bool]:
        """(lower, upper, upper inclusive) of a qualitative band, in percent."""
        if band == ACHIEVED:
            return self.band_achieved_min, HUNDRED, True
        if band == PARTIAL:
            return self.band_partial_min, self.band_achieved_min, False
        if band == NOT_ACHIEVED:
            return ZERO, self.band_partial_min, False
        raise ScoringError(f"未知的完成程度“{band}”")


DEFAULT_RULES = Rules()


@dataclass(frozen=True)
class IndicatorInput:
    key: object  # the caller's id for the row (e.g. the TargetIndicator pk)
    name: str
    level1: str
    comparison: str
    weight: Decimal  # 分值
    target_value: Decimal | None = None
    unit: str = ""
    actual_value: Decimal | None = None  # quantitative
    band: str = ""  # qualitative
    band_percent: Decimal | None = None  # qualitative, percent within the band


@dataclass(frozen=True)
class Line:
    key: object
    category: str
    name: str
    max_points: Decimal
    points: Decimal
    formula: str
    loss_reason: str = ""
    missing: bool = False

    @property
    def lost(self) -> bool:
        return self.points < self.max_points


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    weight: Decimal
    points: Decimal
    note: str = ""


@dataclass(frozen=True)
class Result:
    total: Decimal  # rounded to 2 places
    grade: str
    lines: list[Line]
    categories: list[Category]
    missing: list[str] = field(default_factory=list)  # names of items without an actual value

    @property
    def grade_label(self) -> str:
        return GRADE_LABELS[self.grade]

    @property
    def complete(self) -> bool:
        return not self.missing


def fmt(value: Decimal) -> str:
    """A number for the explanations: no exponent, no trailing zeros, at most 4 decimals."""
    value = value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP).normalize()
    return f"{value:f}"


def grade_of(total: Decimal, rules: Rules = DEFAULT_RULES) -> str:
    if total >= rules.grade_excellent:
        return EXCELLENT
    if total >= rules.grade_good:
        return GOOD
    if total >= rules.grade_fair:
        return FAIR
    return POOR


def _not_negative(value: Decimal | None, what: str) -> None:
    if value is not None and value < 0:
        raise ScoringError(f"{what}不能为负数")


def execution_line(rules: Rules, budget: Decimal, executed: Decimal | None) -> Line:
    weight = rules.weight_execution
    _not_negative(budget, "调整后预算")
    _not_negative(executed, "实际执行数")
    name = CATEGORY_LABELS[EXECUTION]
    if executed is None:
        return Line(EXECUTION, EXECUTION, name, weight, ZERO, "未填写实际执行数", "缺少实际执行数，不得分", True)
    if budget == 0:
        return Line(EXECUTION, EXECUTION, name, weight, weight, "调整后预算为0，按满分计")
    rate = executed / budget
    points = min(rate, Decimal("1")) * weight
    formula = f"min({fmt(executed)} ÷ {fmt(budget)}, 1) × {fmt(weight)} = {fmt(points)}"
    loss = "" if rate >= 1 else f"预算执行率 {fmt(rate * HUNDRED)}%，未全部执行"
    return Line(EXECUTION, EXECUTION, name, weight, points, formula, loss)


def indicator_line(rules: Rules, row: IndicatorInput, category: str, max_points: Decimal) -> Line:
    """Points of one indicator whose maximum within its category is ``max_points``."""
    line = lambda points, formula, loss="", missing=False: Line(  # noqa: E731
        row.key, category, row.name, max_points, points, formula, loss, missing
    )
    if row.comparison == QUALITATIVE:
        if not row.band or row.band_percent is None:
            return line(ZERO, "未评定完成程度", "缺少完成程度，不得分", True)
        low, high, high_inclusive = rules.band_limits(row.band)
        pct = row.band_percent
        if pct < low or pct > high or (pct == high and not high_inclusive):
            closing = "]" if high_inclusive else ")"
            raise ScoringError(
                f"“{row.name}”选择{BAND_LABELS[row.band]}时，得分比例应在 [{fmt(low)}, {fmt(high)}{closing} 之间"
            )
        points = pct / HUNDRED * max_points
        formula = f"{BAND_LABELS[row.band]} {fmt(pct)}% × {fmt(max_points)} = {fmt(points)}"
        loss = "" if pct == HUNDRED else f"定性指标评定为{BAND_LABELS[row.band]}（{fmt(pct)}%）"
        return line(points, formula, loss)

    actual, target = row.actual_value, row.target_value
    _not_negative(actual, f"“{row.name}”的实际完成值")
    _not_negative(target, f"“{row.name}”的目标值")
    if actual is None:
        return line(ZERO, "未填写实际完成值", "缺少实际完成值，不得分", True)
    if target is None:
        raise ScoringError(f"“{row.name}”没有目标值，无法计分")
    unit = row.unit
    if row.comparison in (GE, EQ):
        if actual >= target:
            return line(max_points, f"实际 {fmt(actual)}{unit} ≥ 目标 {fmt(target)}{unit}，得满分")
        points = actual / target * max_points  # target > 0 here: actual ≥ 0 = target would be met
        formula = f"{fmt(actual)} ÷ {fmt(target)} × {fmt(max_points)} = {fmt(points)}"
        return line(points, formula, f"实际 {fmt(actual)}{unit}，未达到目标 {fmt(target)}{unit}")
    if row.comparison == LE:
        if actual <= target:
            return line(max_points, f"实际 {fmt(actual)}{unit} ≤ 目标 {fmt(target)}{unit}，得满分")
        points = target / actual * max_points  # actual > target ≥ 0
        formula = f"{fmt(target)} ÷ {fmt(actual)} × {fmt(max_points)} = {fmt(points)}"
        return line(points, formula, f"实际 {fmt(actual)}{unit}，超过目标上限 {fmt(target)}{unit}")
    raise ScoringError(f"“{row.name}”的比较方式“{row.comparison}”无法计分")


def category_weights(rules: Rules, rows: list[IndicatorInput]) -> tuple[dict[str, Decimal], dict[str, str]]:
    """Weight per indicator category after moving a missing 满意度 weight to 效益; notes why."""
    present = {CATEGORY_OF_LEVEL1.get(r.level1) for r in rows}
    weights = {OUTPUT: rules.weight_output, EFFECT: rules.weight_effect, SATISFACTION: rules.weight_satisfaction}
    notes: dict[str, str] = {}
    if SATISFACTION not in present:
        weights[EFFECT] += weights[SATISFACTION]
        weights[SATISFACTION] = ZERO
        notes[SATISFACTION] = "未设置满意度指标，其权重并入效益指标"
        notes[EFFECT] = f"含满意度指标权重 {fmt(rules.weight_satisfaction)} 分"
    for code in (OUTPUT, EFFECT):
        if code not in present and weights[code]:
            notes[code] = f"未设置{CATEGORY_LABELS[code]}，该类 {fmt(weights[code])} 分不得分"
    return weights, notes


def score(rules: Rules, budget: Decimal, executed: Decimal | None, rows: list[IndicatorInput]) -> Result:
    for row in rows:
        if row.level1 not in CATEGORY_OF_LEVEL1:
            raise ScoringError(f"“{row.name}”的一级指标“{row.level1}”无法计分")
        _not_negative(row.weight, f"“{row.name}”的分值")
    lines = [execution_line(rules, budget, executed)]
    categories = [Category(EXECUTION, CATEGORY_LABELS[EXECUTION], rules.weight_execution, lines[0].points)]
    weights, notes = category_weights(rules, rows)
    for code in (OUTPUT, EFFECT, SATISFACTION):
        members = [r for r in rows if CATEGORY_OF_LEVEL1[r.level1] == code]
        weight = weights[code]
        total_weight = sum((r.weight for r in members), ZERO)
        cat_lines = []
        for r in members:
            share = (r.weight / total_weight) if total_weight else (Decimal("1") / len(members))
            cat_lines.append(indicator_line(rules, r, code, weight * share))
        lines.extend(cat_lines)
        earned = sum((line.points for line in cat_lines), ZERO) if members else ZERO
        categories.append(Category(code, CATEGORY_LABELS[code], weight, earned, notes.get(code, "")))
    exact = sum((c.points for c in categories), ZERO)
    total = exact.quantize(CENT, rounding=ROUND_HALF_UP)
    missing = [line.name for line in lines if line.missing]
    return Result(total, grade_of(total, rules), lines, categories, missing)
