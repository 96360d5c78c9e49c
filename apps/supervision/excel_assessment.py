"""Excel of the annual assessment (考核通报) in the house style: sheet 排名 (rank, body, each item's
points, total, grade) and sheet 明细 (body, item, value, computed, final points, adjustment or
人工评分). Printable like the 专项领域 workbooks (A4 landscape, header row repeated, fit to width);
a sheet not yet published is a 考核初稿 — so named in the file and marked 未发布 on each sheet.

Streamed (``write_only``) from a constant number of queries whatever the number of bodies. A reader
who may not open every breakdown gets the ranking without the item columns and only the lines of
the bodies it may open (``body_ids``)."""

from __future__ import annotations

import tempfile

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

from apps.core.excel import BOLD, CENTER, FONT, LEFT, RIGHT, SHADE, TITLE_FONT, plain_cell, styled_cell
from apps.core.templatetags.qd import cn_date
from apps.evaluations.models import Grade

from . import selectors_assessment as selectors
from .models import AnnualAssessment, Metric

POINTS_FORMAT = "0.00"


def _widths(ws, widths) -> None:
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def _print_setup(ws, columns: int) -> None:
    """As the 专项领域 workbooks: A4 landscape, header row repeated on every page, fit to the width;
    the title and the note merged across the table."""
    ws.print_title_rows = "3:3"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    last = get_column_letter(max(columns, 1))
    ws.merged_cells.add(f"A1:{last}1")
    ws.merged_cells.add(f"A2:{last}2")


def _header(ws, labels) -> None:
    ws.append([styled_cell(ws, label, font=BOLD, fill=SHADE, align=CENTER) for label in labels])


def _num(ws, value):
    if value is None:
        return None
    return styled_cell(ws, value, font=FONT, align=RIGHT, number_format=POINTS_FORMAT)


def is_draft(sheet: AnnualAssessment) -> bool:
    return sheet.status != AnnualAssessment.Status.PUBLISHED


def _title(sheet: AnnualAssessment, suffix: str = "") -> str:
    return f"{sheet.title}{suffix}{'（考核初稿）' if is_draft(sheet) else ''}"


def _note(sheet: AnnualAssessment, today) -> str:
    organ = f"考核机关：{sheet.organization.name}"
    if not is_draft(sheet):
        return f"{organ}　通报日期：{cn_date(sheet.published_at)}"
    return (
        f"未发布：本表为考核初稿（{sheet.get_status_display()}），名次和得分可能调整，仅供审定参考，"
        f"不作为考核结果。{organ}　导出日期：{cn_date(today)}"
    )


def _adjusted_label(metric: str, adjusted: bool) -> str:
    """明细's 调整 column: a hand-scored line is scored by hand, not “adjusted”."""
    if metric == Metric.MANUAL:
        return "人工评分" if adjusted else "未评分"
    return "是" if adjusted else ""


def export_assessment(sheet: AnnualAssessment, body_ids: set[int] | None = None, today=None) -> bytes:
    """The sheet as .xlsx bytes; ``body_ids`` limits the 明细 (``None``: every body, with item columns)."""
    today = today or timezone.localdate()
    grades = dict(Grade.choices)
    full = body_ids is None
    items = selectors.items_of(sheet) if full else []
    matrix = selectors.points_matrix(sheet) if full else {}
    note_font = Font(name=FONT.name, size=FONT.size, bold=True, color="C00000") if is_draft(sheet) else FONT
    wb = Workbook(write_only=True)

    ws = wb.create_sheet("排名")
    labels = ["名次", "被考核单位", *[f"{item.name}（{item.max_points}分）" for item in items], "总分", "等次"]
    _widths(ws, [8, 30, *[14] * len(items), 10, 8])
    _print_setup(ws, len(labels))
    ws.freeze_panes = "C4"
    ws.append([styled_cell(ws, _title(sheet), font=TITLE_FONT)])
    ws.append([styled_cell(ws, _note(sheet, today), font=note_font, align=LEFT)])
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
    labels = [
        "被考核单位", "考核项目", "分值", "测算值", "系统计算得分", "最终得分", "调整/评分",
        "调整理由/评分说明", "佐证",
    ]  # fmt: skip
    _widths(ws, [30, 28, 10, 12, 12, 12, 10, 40, 30])
    _print_setup(ws, len(labels))
    ws.freeze_panes = "A4"
    ws.append([styled_cell(ws, _title(sheet, "：得分明细"), font=TITLE_FONT)])
    ws.append([styled_cell(ws, _note(sheet, today), font=note_font, align=LEFT)])
    _header(ws, labels)
    lines = selectors.all_lines(sheet)
    if body_ids is not None:
        lines = lines.filter(body_id__in=body_ids)
    rows = lines.iterator(chunk_size=2000)
    for name, item, max_points, value, computed, points, adjusted, reason, evidence, metric in rows:
        ws.append(
            [
                plain_cell(ws, name),
                plain_cell(ws, item),
                _num(ws, max_points),
                _num(ws, value),
                _num(ws, computed),
                _num(ws, points),
                styled_cell(ws, _adjusted_label(metric, adjusted), font=FONT, align=CENTER),
                plain_cell(ws, reason),
                plain_cell(ws, evidence),
            ]
        )
    with tempfile.TemporaryFile() as handle:
        wb.save(handle)
        handle.seek(0)
        return handle.read()


def file_name(sheet: AnnualAssessment) -> str:
    """``…_通报.xlsx`` once published; before that ``…_考核初稿.xlsx`` (it is not a 通报)."""
    return f"{sheet.title}_{'考核初稿' if is_draft(sheet) else '通报'}.xlsx".replace("/", "_")
