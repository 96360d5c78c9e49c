"""Excel of the annual assessment (考核通报) in the house style: sheet 排名 (rank, body, each item's
points, total, grade) and sheet 明细 (body, item, value, computed, final points, adjustment).

Streamed (``write_only``) from a constant number of queries whatever the number of bodies. A reader
who may not open every breakdown gets the ranking without the item columns and only the lines of
the bodies it may open (``body_ids``)."""

from __future__ import annotations

import tempfile
from urllib.parse import quote

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from apps.core.excel import BOLD, CENTER, FONT, LEFT, RIGHT, SHADE, TITLE_FONT, plain_cell, styled_cell
from apps.core.templatetags.qd import cn_date
from apps.evaluations.models import Grade

from . import selectors_assessment as selectors
from .models import AnnualAssessment

POINTS_FORMAT = "0.00"


def _widths(ws, widths) -> None:
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def _header(ws, labels) -> None:
    ws.append([styled_cell(ws, label, font=BOLD, fill=SHADE, align=CENTER) for label in labels])


def _num(ws, value):
    if value is None:
        return None
    return styled_cell(ws, value, font=FONT, align=RIGHT, number_format=POINTS_FORMAT)


def export_assessment(sheet: AnnualAssessment, body_ids: set[int] | None = None, today=None) -> bytes:
    """The sheet as .xlsx bytes; ``body_ids`` limits the 明细 (``None``: every body, with item columns)."""
    today = today or timezone.localdate()
    grades = dict(Grade.choices)
    full = body_ids is None
    items = selectors.items_of(sheet) if full else []
    matrix = selectors.points_matrix(sheet) if full else {}
    wb = Workbook(write_only=True)

    ws = wb.create_sheet("排名")
    labels = ["名次", "被考核单位", *[f"{item.name}（{item.max_points}分）" for item in items], "总分", "等次"]
    _widths(ws, [8, 30, *[14] * len(items), 10, 8])
    ws.freeze_panes = "C4"
    status = sheet.get_status_display()
    ws.append([styled_cell(ws, sheet.title, font=TITLE_FONT)])
    dated = cn_date(sheet.published_at) if sheet.published_at else f"{status}，导出日期：{cn_date(today)}"
    ws.append([styled_cell(ws, f"考核机关：{sheet.organization.name}　{dated}", font=FONT, align=LEFT)])
    _header(ws, labels)
    for body in selectors.ranking(sheet):
        row = [
            styled_cell(ws, body.rank, font=FONT, align=CENTER),
            plain_cell(ws, body.organization.name),
            *[_num(ws, matrix.get(body.pk, {}).get(item.pk)) for item in items],
            _num(ws, body.total),
            styled_cell(ws, grades.get(body.grade, ""), font=FONT, align=CENTER),
        ]
        ws.append(row)

    ws = wb.create_sheet("明细")
    _widths(ws, [30, 28, 10, 12, 12, 12, 8, 40, 30])
    ws.freeze_panes = "A3"
    ws.append([styled_cell(ws, f"{sheet.title}：得分明细", font=TITLE_FONT)])
    _header(
        ws,
        ["被考核单位", "考核项目", "分值", "测算值", "系统计算得分", "最终得分", "已调整", "调整理由/评分说明", "佐证"],
    )
    lines = selectors.all_lines(sheet)
    if body_ids is not None:
        lines = lines.filter(body_id__in=body_ids)
    for name, item, max_points, value, computed, points, adjusted, reason, evidence in lines.iterator(chunk_size=2000):
        ws.append(
            [
                plain_cell(ws, name),
                plain_cell(ws, item),
                _num(ws, max_points),
                _num(ws, value),
                _num(ws, computed),
                _num(ws, points),
                "是" if adjusted else "",
                plain_cell(ws, reason),
                plain_cell(ws, evidence),
            ]
        )
    with tempfile.TemporaryFile() as handle:
        wb.save(handle)
        handle.seek(0)
        return handle.read()


def file_name(sheet: AnnualAssessment) -> str:
    return f"{sheet.title}_通报.xlsx".replace("/", "_")


def content_disposition(name: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(name)}"
