"""Excel export of one fiscal-operation evaluation, in the house style (``apps.core.excel``):
sheet 排名 (districts by rank: totals, group subtotals, grade) and sheet 指标值 (districts ×
indicators, each with its figure and score). A handful of queries whatever the size (the ranking
and one query for every value)."""

from __future__ import annotations

import tempfile
from datetime import date

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from apps.core.excel import BOLD, CENTER, FONT, LEFT, RIGHT, SHADE, TITLE_FONT, styled_cell
from apps.core.templatetags.qd import cn_date

from . import selectors_fiscal as selectors
from .models import FiscalEvaluation, FiscalIndicator

SCORE_FORMAT = "0.00"
VALUE_FORMAT = "#,##0.00##"


def _c(ws, value, **kw):
    kw.setdefault("font", FONT)
    kw.setdefault("align", LEFT)
    return styled_cell(ws, value, **kw)


def _num(ws, value, fmt=SCORE_FORMAT):
    return styled_cell(ws, value, font=FONT, align=RIGHT, number_format=fmt)


def _head(ws, labels):
    return [styled_cell(ws, label, font=BOLD, align=CENTER, fill=SHADE) for label in labels]


FIXED_COLUMNS = 5  # 指标类别, 指标名称, 单位, 方向, 分值; then 指标值 and 得分 per district


def _merged_header(districts: int) -> list[str]:
    """The 指标值 sheet's two header rows: the fixed columns span both rows, each district's name
    spans its 指标值 and 得分 columns."""
    ranges = [f"{get_column_letter(c)}2:{get_column_letter(c)}3" for c in range(1, FIXED_COLUMNS + 1)]
    for n in range(districts):
        first = FIXED_COLUMNS + 1 + 2 * n
        ranges.append(f"{get_column_letter(first)}2:{get_column_letter(first + 1)}2")
    return ranges


def _group_runs(groups: list[str], first_row: int) -> list[str]:
    """Column A (指标类别) merged over each run of indicators of the same group."""
    ranges, start = [], 0
    for i in range(1, len(groups) + 1):
        if i == len(groups) or groups[i] != groups[start]:
            if i - start > 1:
                ranges.append(f"A{first_row + start}:A{first_row + i - 1}")
            start = i
    return ranges


def export(evaluation: FiscalEvaluation, today: date | None = None) -> bytes:
    result = selectors.ranking(evaluation)
    indicators = selectors.indicators_of(evaluation)
    matrix = selectors.value_matrix(evaluation)
    state = "（评分未完成，排名为暂定）" if result.provisional else f"（{cn_date(evaluation.published_at)}发布）"
    wb = Workbook(write_only=True)

    ws = wb.create_sheet("排名")
    headers = [
        "名次",
        "区市",
        "区市财政局",
        *[f"{g}（{p:.0f}分）" for g, p in zip(result.groups, result.group_points, strict=True)],
        "总分",
        "等次",
        "状态",
    ]
    widths = [7, 18, 22, *[14] * len(result.groups), 10, 8, 10]
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A3"
    ws.append([_c(ws, f"{evaluation.title}排名{state}", font=TITLE_FONT)])
    ws.append(_head(ws, headers))
    for row in result.rows:
        ws.append(
            [
                _num(ws, row.rank, "0") if row.rank else _c(ws, ""),
                _c(ws, row.region),
                _c(ws, row.name),
                *[_num(ws, g) if g is not None else _c(ws, "") for g in row.groups],
                _num(ws, row.total) if row.total is not None else _c(ws, ""),
                _c(ws, row.grade_label, align=CENTER),
                _c(ws, row.status_label, align=CENTER),
            ]
        )
    if evaluation.summary:
        ws.append([])
        ws.append([_c(ws, f"总体评价意见：{evaluation.summary}")])

    ws = wb.create_sheet("指标值")
    order = sorted(result.rows, key=lambda r: r.position)  # the districts' fixed order, not by rank
    widths = [14, 26, 8, 10, 8] + [14, 9] * len(order)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "F4"
    # A write-only sheet has no ``merge_cells()``; its ``merged_cells`` ranges are written on save.
    for range_ in _merged_header(len(order)):
        ws.merged_cells.add(range_)
    ws.merged_cells.add(f"A1:{get_column_letter(len(widths))}1")
    for range_ in _group_runs([i.group for i in indicators], first_row=4):
        ws.merged_cells.add(range_)
    ws.append([_c(ws, f"{evaluation.title}指标值及得分", font=TITLE_FONT)])
    top = _head(ws, ["指标类别", "指标名称", "单位", "方向", "分值"])
    for r in order:
        top += _head(ws, [r.region, ""])
    ws.append(top)
    ws.append(_head(ws, ["", "", "", "", ""] + ["指标值", "得分"] * len(order)))
    previous_group = None
    for indicator in indicators:
        cells = [
            # only the first row of a run of one group holds its name (the run is merged)
            _c(ws, indicator.group if indicator.group != previous_group else "", align=CENTER),
            _c(ws, indicator.name),
            _c(ws, indicator.unit, align=CENTER),
            _c(ws, indicator.get_direction_display(), align=CENTER),
            _num(ws, indicator.max_points),
        ]
        for r in order:
            v = matrix.get((r.submission_id, indicator.pk))
            if v is None:
                cells += [_c(ws, ""), _c(ws, "")]
                continue
            if indicator.direction == FiscalIndicator.Direction.QUALITATIVE:
                cells.append(_c(ws, v.text_value))
            else:
                cells.append(_num(ws, v.value, VALUE_FORMAT) if v.value is not None else _c(ws, ""))
            cells.append(_num(ws, v.score) if v.score is not None else _c(ws, ""))
        ws.append(cells)
        previous_group = indicator.group
    ws.append(
        [_c(ws, "合计", font=BOLD), _c(ws, ""), _c(ws, ""), _c(ws, ""), _num(ws, sum(i.max_points for i in indicators))]
        + [c for r in order for c in (_c(ws, ""), _num(ws, r.total) if r.total is not None else _c(ws, ""))]
    )
    with tempfile.TemporaryFile() as handle:
        wb.save(handle)
        handle.seek(0)
        return handle.read()


def file_name(evaluation: FiscalEvaluation, today: date) -> str:
    return f"区市财政运行综合绩效评价_{evaluation.fiscal_year_id}_{today:%Y%m%d}.xlsx"
