"""Indicator rows as typed by people (browser form, API payload, Excel sheet) → validated rows.

One cleaning function for every entry point, so a value refused in the browser is refused in the
API and the import with the same Chinese message naming the row and the column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from apps.indicators.framework import LEVEL2_PARENT, Comparison, Level1, Level2

COLUMNS = {
    "level1": "一级指标",
    "level2": "二级指标",
    "name": "三级指标",
    "comparison": "比较方式",
    "value": "指标值",
    "unit": "计量单位",
    "weight": "分值",
}


@dataclass
class RowError:
    row: int  # 1-based position among the rows
    column: str  # key of COLUMNS, or "" for the whole row
    message: str
    sheet: str = ""
    sheet_row: int | None = None  # the spreadsheet row, for imports

    def __str__(self) -> str:
        where = f"工作表“{self.sheet}”第 {self.sheet_row} 行" if self.sheet else f"第 {self.row} 行"
        column = f"“{COLUMNS[self.column]}”" if self.column else ""
        return f"{where}{column}：{self.message}"


@dataclass
class CleanRow:
    level1: str
    level2: str
    name: str
    comparison: str
    target_value: Decimal | None
    target_text: str
    unit: str
    weight: Decimal
    library_indicator_id: int | None = None
    id: int | None = None
    extra: dict = field(default_factory=dict)


def _choice(value: str, choices, labels: dict[str, str]) -> str | None:
    """Accept a code ('output') or its Chinese label ('产出指标' or '产出')."""
    value = (value or "").strip()
    if value in choices.values:
        return value
    for code, label in labels.items():
        if value and (value == label or value == label.removesuffix("指标")):
            return code
    return None


def parse_decimal(text) -> Decimal | None:
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    if isinstance(text, bool):
        raise InvalidOperation
    number = Decimal(str(text).strip().replace(",", ""))
    if not number.is_finite():  # "NaN", "Infinity" parse as Decimals but are not numbers anyone typed
        raise InvalidOperation
    return number


def clean_row(raw: dict, position: int) -> tuple[CleanRow | None, list[RowError]]:
    errors: list[RowError] = []

    def err(column: str, message: str) -> None:
        errors.append(RowError(position, column, message))

    level1 = _choice(raw.get("level1", ""), Level1, dict(Level1.choices))
    level2 = _choice(raw.get("level2", ""), Level2, dict(Level2.choices))
    if level1 is None:
        err("level1", "请选择一级指标（产出、效益、满意度或成本指标）。")
    if level2 is None:
        err("level2", "请选择二级指标。")
    elif level1 is not None and LEVEL2_PARENT[level2] != level1:
        err("level2", f"“{Level2(level2).label}”不属于“{Level1(level1).label}”。")
    name = (raw.get("name") or "").strip()
    if not name:
        err("name", "请填写三级指标名称。")
    elif len(name) > 200:
        err("name", "三级指标名称不能超过 200 个字。")
    comparison = raw.get("comparison", "")
    comparison = comparison if comparison in Comparison.values else Comparison.from_symbol(comparison)
    if comparison is None:
        err("comparison", "比较方式只能是 ≥、≤、= 或 定性。")
    unit = (raw.get("unit") or "").strip()
    if len(unit) > 30:
        err("unit", "计量单位不能超过 30 个字。")
    value_text = raw.get("value", "")
    target_value, target_text = None, ""
    if comparison == Comparison.QUALITATIVE:
        target_text = str(value_text or "").strip()
        if not target_text:
            err("value", "定性指标须写明达成标准（如“达到国家二级标准”）。")
        elif len(target_text) > 200:
            err("value", "定性指标值不能超过 200 个字。")
    elif comparison is not None:
        try:
            target_value = parse_decimal(value_text)
        except (InvalidOperation, ValueError):
            err("value", f"“{value_text}”不是数字。")
        else:
            if target_value is None:
                err("value", "定量指标须填写指标值。")
            elif target_value < 0:
                err("value", "指标值不能为负数。")
            elif abs(target_value) >= Decimal("1e14"):
                err("value", "指标值过大。")
        if not unit:
            err("unit", "定量指标须填写计量单位。")
    try:
        weight = parse_decimal(raw.get("weight", "")) or Decimal("0")
    except (InvalidOperation, ValueError):
        err("weight", f"“{raw.get('weight')}”不是数字。")
        weight = Decimal("0")
    else:
        if weight < 0 or weight > 100:
            err("weight", "分值应在 0 到 100 之间。")
    library = raw.get("library_indicator_id") or None
    row_id = raw.get("id") or None
    try:
        library = int(library) if library else None
        row_id = int(row_id) if row_id else None
    except (TypeError, ValueError):
        err("", "行标识无效，请刷新页面后重试。")
    if errors:
        return None, errors
    return (
        CleanRow(
            level1=level1,
            level2=level2,
            name=name,
            comparison=comparison,
            target_value=target_value,
            target_text=target_text,
            unit=unit,
            weight=weight.quantize(Decimal("0.01")),
            library_indicator_id=library,
            id=row_id,
        ),
        [],
    )


def clean_rows(raws: list[dict]) -> tuple[list[CleanRow], list[RowError]]:
    rows, errors = [], []
    for position, raw in enumerate(raws, start=1):
        row, row_errors = clean_row(raw, position)
        errors.extend(row_errors)
        if row is not None:
            rows.append(row)
    return rows, errors


FORM_FIELDS = ["id", "level1", "level2", "name", "comparison", "value", "unit", "weight", "library_indicator_id"]


def rows_from_post(post) -> list[dict]:
    """The form posts parallel lists ``row-<field>`` in DOM order (so reordering needs no renumbering)."""
    columns = {name: post.getlist(f"row-{name}") for name in FORM_FIELDS}
    count = len(columns["name"])
    return [{name: (values[i] if i < len(values) else "") for name, values in columns.items()} for i in range(count)]
