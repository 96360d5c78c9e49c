"""Quality checks finance expects of a 绩效目标申报表 (domain.md, step 2).

Pure functions over plain values, so the same checks run live on the unsaved form, on the review
queue, on batch approval and in the API. ``errors`` block sending the target on; ``warnings`` are
shown to filer and reviewer, and a target with any of them cannot be batch-approved.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from apps.indicators.framework import REQUIRED_LEVEL1, Comparison, Level1

# Indicator points add up to 90; the other 10 are the budget execution rate (财预〔2020〕10号).
WEIGHT_TOTAL = Decimal("90")


@dataclass(frozen=True)
class Issue:
    code: str
    message: str
    blocking: bool = False


@dataclass(frozen=True)
class LastYear:
    """The previous year's approved target of the same fund, for the copy check (中长期目标 may
    rightly stay the same over the project period, so only 年度目标 and the rows are compared)."""

    annual_goal: str
    rows: tuple[tuple[str, str, str], ...]  # (name, comparison, value) per row


def row_signature(row) -> tuple[str, str, str]:
    value = row.target_text if row.comparison == Comparison.QUALITATIVE else f"{row.target_value}{row.unit}"
    return (row.name, row.comparison, value)


def check(
    *,
    rows: Sequence,
    annual_goal: str,
    last_year: LastYear | None = None,
    core_indicators: Iterable[tuple[int, str]] = (),
    kind: str = "fund",
) -> list[Issue]:
    issues: list[Issue] = []
    if not rows:
        return [Issue("no_rows", "尚未填写任何绩效指标。", blocking=True)]
    if not annual_goal.strip():
        issues.append(Issue("no_annual_goal", "未填写年度目标。", blocking=True))
    present = {row.level1 for row in rows}
    missing = [Level1(code).label for code in REQUIRED_LEVEL1 if code not in present]
    if missing:
        issues.append(Issue("missing_level1", f"缺少一级指标：{'、'.join(missing)}。"))
    for level1 in (Level1.OUTPUT, Level1.EFFECT):
        if level1 in present and not any(r.level1 == level1 and r.comparison != Comparison.QUALITATIVE for r in rows):
            issues.append(Issue(f"no_quantitative_{level1}", f"{Level1(level1).label}中至少要有一个定量指标。"))
    total = sum((row.weight for row in rows), Decimal("0"))
    if total != WEIGHT_TOTAL:
        issues.append(
            Issue("weights", f"三级指标分值合计应为 {WEIGHT_TOTAL:g} 分（另 10 分为预算执行率），当前为 {total:g} 分。")
        )
    names = [row.name for row in rows]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        issues.append(Issue("duplicate_rows", f"指标重复：{'、'.join(duplicates)}。"))
    if kind == "fund":
        # A core indicator counts when a row carries it by name (a library link alone could be forged).
        missing_core = [name for _pk, name in core_indicators if name not in names]
        if missing_core:
            issues.append(Issue("missing_core", f"缺少本行业核心约束指标：{'、'.join(missing_core)}。"))
    if last_year is not None:
        if annual_goal.strip() and annual_goal.strip() == last_year.annual_goal.strip():
            issues.append(Issue("copied_goal", "年度目标与上年完全相同，请结合本年度任务修改。"))
        if last_year.rows and tuple(sorted(row_signature(r) for r in rows)) == tuple(sorted(last_year.rows)):
            issues.append(Issue("copied_rows", "绩效指标及指标值与上年完全相同，未体现本年度变化。"))
    return issues


def blocking(issues: Iterable[Issue]) -> list[Issue]:
    return [i for i in issues if i.blocking]
