"""Special-area Excel exports in house style (``apps.core.excel``), streamed (``write_only``).

* the summary (专项领域绩效管理情况汇总表): per area its total row, then one row per region the user
  may see, then the totals row (each fund once); the figures are ``selectors_areas.area_summary``'s;
* one area's funds (专项领域项目明细表): the rows of ``selectors_areas.area_fund_list``.

Amounts in 万元 with two decimals (numbers, ``#,##0.00``); each download is audited as an export."""

from __future__ import annotations

import tempfile
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from apps.core import audit
from apps.core.excel import BOLD, BORDER, CENTER, FONT, LEFT, SHADE, TITLE_FONT, WAN_FORMAT, styled_cell
from apps.targets.excel import XLSX_CONTENT_TYPE, safe_filename  # noqa: F401 — re-exported for the views
from apps.targets.models import TargetStatus

from . import selectors_areas as sel

SUMMARY_SHEET = "专项领域汇总"
FUNDS_SHEET = "项目明细"
SUMMARY_COLUMNS = [
    ("专项领域", 16),
    ("区域", 14),
    ("项目数", 9),
    ("预算金额（万元）", 16),
    ("目标已报送", 11),
    ("目标已批复", 11),
    ("监控预警", 10),
    *[(f"评价“{label}”", 9) for _, label in sel.GRADES],
    ("未评价", 9),
]
FUND_COLUMNS = [
    ("序号", 6),
    ("区域", 12),
    ("主管部门", 24),
    ("实施单位", 24),
    ("项目编码", 18),
    ("项目名称", 32),
    ("预算金额（万元）", 16),
    ("绩效目标状态", 14),
    ("监控预警", 10),
    ("评价等级", 10),
    ("等级来源", 12),
]


def wan(value) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(value) / 10000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _cell(ws, value, *, font=FONT, align=LEFT, fill=None, money=False):
    return styled_cell(
        ws, value, font=font, align=align, fill=fill, border=BORDER, number_format=WAN_FORMAT if money else None
    )


def _sheet(wb, name: str, columns, title: str, scope: str):
    ws = wb.create_sheet(name)
    for i, (_, width) in enumerate(columns):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    ws.freeze_panes = "C4"
    ws.print_title_rows = "3:3"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.orientation = "landscape"
    cell = WriteOnlyCell(ws, value=title)
    cell.font = TITLE_FONT
    ws.append([cell])
    ws.append([WriteOnlyCell(ws, value=scope)])
    ws.append([_cell(ws, label, font=BOLD, align=CENTER, fill=SHADE) for label, _ in columns])
    return ws


def _figures_row(ws, area: str, region: str, f: sel.Figures, *, bold=False) -> list:
    font, fill = (BOLD, SHADE) if bold else (FONT, None)
    numbers = [f.funds, wan(f.budget), f.filed, f.approved, f.warnings, *[n for _, _, n in f.grade_list], f.ungraded]
    row = [_cell(ws, area, font=font, fill=fill), _cell(ws, region, font=font, fill=fill)]
    for i, value in enumerate(numbers):
        row.append(_cell(ws, value, font=font, fill=fill, align=CENTER if i != 1 else None, money=i == 1))
    return row


def summary_workbook(summary: sel.Summary, *, scope: str, file) -> None:
    wb = Workbook(write_only=True)
    ws = _sheet(wb, SUMMARY_SHEET, SUMMARY_COLUMNS, f"{summary.fiscal_year}年度专项领域绩效管理情况汇总表", scope)
    for block in summary.areas:
        if summary.city_wide:
            ws.append(_figures_row(ws, block.label, "小计", block.total, bold=True))
        for line in block.regions:
            ws.append(_figures_row(ws, block.label, line.region.name, line.figures))
    ws.append(_figures_row(ws, "合计（项目不重复计算）", "", summary.total, bold=True))
    ws.append([WriteOnlyCell(ws, value=sel.TARGET_BASIS)])
    ws.append([WriteOnlyCell(ws, value=sel.WARNING_BASIS)])
    ws.append([WriteOnlyCell(ws, value=sel.GRADE_BASIS)])
    wb.save(file)


def target_label(fund) -> str:
    if fund.target_status:
        return TargetStatus(fund.target_status).label
    return "未填报"


def grade_source(fund) -> str:
    if fund.key_grade:
        return "重点评价"
    if fund.self_grade:
        return "单位自评"
    return ""


def funds_workbook(funds, *, title: str, scope: str, file) -> int:
    wb = Workbook(write_only=True)
    ws = _sheet(wb, FUNDS_SHEET, FUND_COLUMNS, title, scope)
    n = 0
    budget = Decimal("0")
    warnings = 0
    for fund in funds.iterator(chunk_size=2000):
        n += 1
        budget += fund.total_amount
        warnings += fund.warning_count
        name = f"{fund.name}（涉密）" if fund.is_classified else fund.name
        ws.append(
            [
                _cell(ws, n, align=CENTER),
                _cell(ws, fund.region.name),
                _cell(ws, fund.department.name),
                _cell(ws, fund.organization.name),
                _cell(ws, fund.code),
                _cell(ws, name),
                _cell(ws, wan(fund.total_amount), money=True),
                _cell(ws, target_label(fund), align=CENTER),
                _cell(ws, fund.warning_count, align=CENTER),
                _cell(ws, sel.grade_label(fund.area_grade) or "未评价", align=CENTER),
                _cell(ws, grade_source(fund), align=CENTER),
            ]
        )
    total = [_cell(ws, "", fill=SHADE), _cell(ws, f"合计（{n} 项）", font=BOLD, fill=SHADE)]
    total += [_cell(ws, "", fill=SHADE) for _ in range(4)]
    total += [_cell(ws, wan(budget), font=BOLD, fill=SHADE, money=True), _cell(ws, "", fill=SHADE)]
    total += [_cell(ws, warnings, font=BOLD, fill=SHADE, align=CENTER), _cell(ws, "", fill=SHADE)]
    total += [_cell(ws, "", fill=SHADE)]
    ws.append(total)
    ws.append([WriteOnlyCell(ws, value=sel.WARNING_BASIS)])
    ws.append([WriteOnlyCell(ws, value=sel.GRADE_BASIS)])
    wb.save(file)
    return n


def _filename(stem: str, fiscal_year: int, day: date | None = None) -> str:
    day = day or timezone.localdate()
    return safe_filename(f"{stem}-{fiscal_year}-{day:%Y%m%d}.xlsx")


def summary_export(*, actor, summary: sel.Summary, scope_name: str):
    """The summary workbook as a temporary file and its file name (audited as an export)."""
    file = tempfile.TemporaryFile()  # noqa: SIM115 — the response closes (and so deletes) it
    scope = f"范围：{scope_name}；金额单位：万元"
    summary_workbook(summary, scope=scope, file=file)
    file.seek(0)
    audit.record(
        audit.Kind.EXPORT,
        actor=actor,
        comment=f"导出{summary.fiscal_year}年度专项领域汇总表（{scope_name}，{summary.total.funds} 个项目）",
    )
    return file, _filename(f"专项领域汇总表-{scope_name}", summary.fiscal_year)


def funds_export(*, actor, funds, fiscal_year: int, area_label: str, scope_name: str):
    """One area's funds as a temporary file and its file name (audited as an export)."""
    file = tempfile.TemporaryFile()  # noqa: SIM115 — the response closes (and so deletes) it
    title = f"{fiscal_year}年度{area_label}项目明细表"
    count = funds_workbook(funds, title=title, scope=f"范围：{scope_name}；金额单位：万元", file=file)
    file.seek(0)
    audit.record(
        audit.Kind.EXPORT,
        actor=actor,
        comment=f"导出{fiscal_year}年度{area_label}项目明细表（{scope_name}，{count} 个项目）",
    )
    return file, _filename(f"{area_label}项目明细表-{scope_name}", fiscal_year)
