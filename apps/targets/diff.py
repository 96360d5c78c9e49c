"""Side-by-side comparison of two versions of a target: header texts and indicator rows."""

from __future__ import annotations

from dataclasses import dataclass

from .models import PerformanceTarget, TargetIndicator


@dataclass
class RowDiff:
    key: str
    before: TargetIndicator | None
    after: TargetIndicator | None

    @property
    def change(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        same = (
            self.before.value_display == self.after.value_display
            and self.before.weight == self.after.weight
            and self.before.level2 == self.after.level2
        )
        return "same" if same else "changed"


def _key(row: TargetIndicator) -> str:
    return f"{row.level2}:{row.name}"


def compare_versions(a: PerformanceTarget, b: PerformanceTarget) -> dict:
    before = {_key(r): r for r in a.indicators.all()}
    after = {_key(r): r for r in b.indicators.all()}
    keys = list(before) + [k for k in after if k not in before]
    return {
        "header": [
            (label, getattr(a, field), getattr(b, field), getattr(a, field) != getattr(b, field))
            for field, label in [
                ("long_term_goal", "中长期目标"),
                ("annual_goal", "年度目标"),
                ("adjustment_reason", "调整原因"),
            ]  # fmt: skip
        ],
        "rows": [RowDiff(k, before.get(k), after.get(k)) for k in keys],
    }
