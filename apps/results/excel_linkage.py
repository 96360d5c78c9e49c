"""The linkage report (预算安排与绩效挂钩情况表) as a streamed Excel workbook.

``write_only`` workbook (memory stays flat whatever the number of funds), one sheet: a title row,
a scope row, the header, the funds of each department followed by its subtotal, then the grand
total. Amounts in 万元 with two decimals (numbers, format ``#,##0.00``). The rows come from
``selectors_linkage.linkage_report`` (a constant number of queries)."""

from __future__ import annotations

import tempfile
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from apps.core import audit
from apps.core.excel import BOLD, BORDER, CENTER, FONT, LEFT, SHADE, TITLE_FONT, WAN_FORMAT, styled_cell
from apps.targets.excel import XLSX_CONTENT_TYPE, safe_filename  # noqa: F401 — re-exported for the view

from .selectors_linkage import Report

SHEET = "预算挂钩情况"
COLUMNS = [
    ("序号", 6),
    ("主管部门", 22),
    ("项目编码", 18),
    ("项目名称", 30),
    ("上次评价等级", 10),
    ("挂钩建议", 12),
    ("申报金额（万元）", 14),
    ("建议金额（万元）", 14),
    ("安排金额（万元）", 14),
    ("是否偏离", 8),
    ("偏离建议的理由", 36),
]


def wan(value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(value) / 10000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _cell(ws, value, *, font=FONT, align=LEFT, fill=None, money=False):
    return styled_cell(
        ws, value, font=font, align=align, fill=fill, border=BORDER, number_format=WAN_FORMAT if money else None
    )


def report_workbook(report: Report, *, scope: str, file) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET)
    for i, (_, width) in enumerate(COLUMNS):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    ws.freeze_panes = "E4"
    ws.print_title_rows = "3:3"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.orientation = "landscape"
    title = WriteOnlyCell(ws, value=f"{report.fiscal_year}年度预算安排与绩效评价结果挂钩情况表")
    title.font = TITLE_FONT
    ws.append([title])
    ws.append([WriteOnlyCell(ws, value=scope)])
    ws.append([_cell(ws, label, font=BOLD, align=CENTER, fill=SHADE) for label, _ in COLUMNS])
    n = 0
    for block in report.blocks:
        for line in block.lines:
            n += 1
            ws.append(
                [
                    _cell(ws, n, align=CENTER),
                    _cell(ws, block.department_name),
                    _cell(ws, line.fund.code),
                    _cell(ws, line.fund.name),
                    _cell(ws, line.grade_label or "无", align=CENTER),
                    _cell(ws, line.suggestion_label, align=CENTER),
                    _cell(ws, wan(line.requested), money=True),
                    _cell(ws, wan(line.suggested), money=True),
                    _cell(ws, wan(line.decided), money=True),
                    _cell(ws, "是" if line.departs else ("否" if line.decided is not None else "未安排"), align=CENTER),
                    _cell(ws, line.decision.reason if line.decision is not None else ""),
                ]
            )
        ws.append(_total_row(ws, f"{block.department_name} 小计（{len(block.lines)} 项）", block))
    ws.append(_total_row(ws, f"合计（{report.count} 项，偏离建议 {report.departures} 项）", report))
    wb.save(file)


def _total_row(ws, label: str, totals) -> list:
    row = [_cell(ws, "", fill=SHADE), _cell(ws, label, font=BOLD, fill=SHADE)]
    row += [_cell(ws, "", fill=SHADE) for _ in range(4)]
    row += [
        _cell(ws, wan(getattr(totals, a)), font=BOLD, fill=SHADE, money=True)
        for a in ("requested", "suggested", "decided")
    ]
    row += [_cell(ws, totals.departures, font=BOLD, align=CENTER, fill=SHADE), _cell(ws, "", fill=SHADE)]
    return row


def report_filename(fiscal_year: int, scope_name: str, day: date | None = None) -> str:
    day = day or timezone.localdate()
    return safe_filename(f"预算挂钩情况表-{scope_name}-{fiscal_year}-{day:%Y%m%d}.xlsx")


def report_export(*, actor, report: Report, scope: str, scope_name: str):
    """The workbook as a temporary file and its file name (audited as an export)."""
    file = tempfile.TemporaryFile()  # noqa: SIM115 — the response closes (and so deletes) it
    report_workbook(report, scope=scope, file=file)
    file.seek(0)
    audit.record(
        audit.Kind.EXPORT,
        actor=actor,
        comment=f"导出{report.fiscal_year}年度预算挂钩情况表（{scope_name}，{report.count} 项）",
    )
    return file, report_filename(report.fiscal_year, scope_name)
