"""The monitoring rules of domain.md (step 3), as pure functions over plain values.

* execution rate = executed / adjusted budget;
* behind schedule: rate < elapsed share of the year − tolerance (default 15 percentage points);
* an indicator is at risk when its expected full-year value misses the target, or the unit says it
  will possibly or certainly not be achieved; then a deviation cause and a corrective measure are
  required;
* a report not submitted by the due date is overdue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from apps.indicators.framework import Comparison

HUNDRED = Decimal("100")
CENT = Decimal("0.01")


def execution_rate(executed: Decimal | None, budget: Decimal | None) -> Decimal | None:
    """Percentage with two places; None when there is nothing to divide."""
    if executed is None or not budget:
        return None
    return (executed / budget * HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)


def elapsed_share(as_of: date, year: int) -> Decimal:
    """How much of the fiscal (calendar) year has passed at ``as_of``, in percent (31 July → 58.08)."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    if as_of <= start:
        return Decimal("0.00")
    if as_of >= end:
        return HUNDRED.quantize(CENT)
    days = (as_of - start).days + 1
    total = (end - start).days + 1
    return (Decimal(days) / Decimal(total) * HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)


def behind_schedule(rate: Decimal | None, as_of: date, year: int, tolerance: Decimal) -> bool:
    return rate is not None and rate < elapsed_share(as_of, year) - tolerance


def misses_target(comparison: str, target_value: Decimal | None, expected: Decimal | None) -> bool:
    """Would the expected full-year value miss the target? (定性 indicators: judged by likelihood.)"""
    if comparison == Comparison.QUALITATIVE or target_value is None or expected is None:
        return False
    if comparison == Comparison.GE:
        return expected < target_value
    if comparison == Comparison.LE:
        return expected > target_value
    return expected != target_value


def at_risk(comparison: str, target_value, expected, likelihood: str) -> bool:
    return misses_target(comparison, target_value, expected) or likelihood in ("possible", "impossible")


def indicator_risk(rows) -> int:
    """3 if any progress row says 完全不可能, 2 if any is at risk, else 0 (rows carry ``at_risk``)."""
    rows = list(rows)
    if any(row.likelihood == "impossible" for row in rows):
        return 3
    return 2 if any(row.at_risk for row in rows) else 0


@dataclass(frozen=True)
class Warning:
    kind: str  # behind_schedule | indicator_impossible | indicator_at_risk | overdue
    severity: int  # 3 high, 2 medium, 1 low: lists sort by it
    message: str


def report_warnings(
    *,
    rate: Decimal | None,
    as_of: date,
    year: int,
    tolerance: Decimal,
    indicators: list[
        tuple[str, str, Decimal | None, Decimal | None, str]
    ],  # (name, comparison, target, expected, likelihood)
    submitted: bool,
    due_on: date,
    today: date,
) -> list[Warning]:
    warnings: list[Warning] = []
    if behind_schedule(rate, as_of, year, tolerance):
        schedule = elapsed_share(as_of, year)
        warnings.append(
            Warning(
                "behind_schedule",
                3,
                f"预算执行率 {rate}% 低于时间进度 {schedule}% 减容差 {tolerance.normalize():f} 个百分点。",
            )
        )
    for name, comparison, target, expected, likelihood in indicators:
        if likelihood == "impossible":
            warnings.append(Warning("indicator_impossible", 3, f"“{name}”预计完全不可能完成。"))
        elif at_risk(comparison, target, expected, likelihood):
            warnings.append(Warning("indicator_at_risk", 2, f"“{name}”预计难以完成目标值。"))
    if not submitted and today > due_on:
        warnings.append(Warning("overdue", 2, f"监控报告已超过报送截止日期（{due_on:%Y-%m-%d}）仍未报送。"))
    return sorted(warnings, key=lambda w: -w.severity)
