"""Excel export of one fiscal-operation evaluation, in the house style (``apps.core.excel``):
sheet 排名 (districts by rank: totals, group subtotals, grade) and sheet 指标值 (districts ×
indicators, each with its figure and score). A handful of queries whatever the size (the ranking
and one query for every value)."""

from __future__ import annotations

import tempfile
from datetime import date
from urllib.parse import quote

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
    ws.append([_c(ws, f"{evaluation.title}指标值及得分", font=TITLE_FONT)])
    top = _head(ws, ["指标类别", "指标名称", "单位", "方向", "分值"])
    for r in order:
        top += _head(ws, [r.region, ""])
    ws.append(top)
    ws.append(_head(ws, ["", "", "", "", ""] + ["指标值", "得分"] * len(order)))
    for indicator in indicators:
        cells = [
            _c(ws, indicator.group),
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


def content_disposition(name: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(name)}"
