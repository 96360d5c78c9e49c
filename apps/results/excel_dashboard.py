"""The Excel download of one dashboard chart: the same numbers as its table, in the house styles.

A small workbook (one sheet): a merged title row, a scope line (region or department, year, time of
export), the caliber note, the header row (shaded, bold, frozen below), the data rows (amounts in 万元
with two decimals, shares in % with one decimal, scores with two), A4 landscape.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins

from apps.core.excel import BOLD, BORDER, CENTER, FONT, LEFT, RIGHT, SHADE, TITLE_FONT, WAN_FORMAT, FormWriter

from .selectors_dashboard import Panel

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {"int": "#,##0", "pct": "0.0", "wan": WAN_FORMAT, "score": "0.00"}
WAN = Decimal("10000")


def cell_value(value, kind: str):
    """What goes in the cell: 万元 for amounts (two places), numbers for the rest, "—" for none."""
    if value is None:
        return "—"
    if kind == "wan":
        return float((Decimal(value) / WAN).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    if kind in ("pct", "score"):
        return float(value)
    return value


def _width(column, rows, index: int) -> float:
    texts = [column.label] + [str(row[index]) for row in rows if row[index] is not None]
    # Chinese characters are about twice as wide as digits.
    longest = max(sum(2 if ord(ch) > 255 else 1 for ch in text) for text in texts)
    return min(max(longest + 2, 10), 40)


def panel_workbook(panel: Panel, *, scope_label: str, exported_at: datetime) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = panel.title[:31]
    n = len(panel.columns)
    last = get_column_letter(n)
    widths = {get_column_letter(i + 1): _width(c, panel.rows, i) for i, c in enumerate(panel.columns)}
    w = FormWriter(ws, widths)
    w.put(f"A1:{last}1", panel.title, font=TITLE_FONT, align=CENTER)
    ws.row_dimensions[1].height = 30
    w.put(f"A2:{last}2", f"范围：{scope_label}　导出时间：{exported_at:%Y年%m月%d日 %H:%M}", align=LEFT)
    w.put(f"A3:{last}3", f"口径：{panel.note}", align=LEFT)
    w.height(3, max(2, len(panel.note) // max(sum(widths.values()) // 2, 1) + 1))
    header = 4
    for i, column in enumerate(panel.columns, start=1):
        cell = w.put(f"{get_column_letter(i)}{header}", column.label, font=BOLD, align=CENTER, fill=SHADE)
        cell.border = BORDER
    for r, row in enumerate(panel.rows, start=header + 1):
        for i, (column, value) in enumerate(zip(panel.columns, row, strict=True), start=1):
            # ``put`` keeps typed text as text: a name starting with "=" never becomes a formula.
            if column.kind == "text" or value is None:
                align, number_format = (LEFT if column.kind == "text" else CENTER), None
            else:
                align, number_format = RIGHT, FORMATS[column.kind]
            cell = w.put(
                f"{get_column_letter(i)}{r}",
                cell_value(value, column.kind),
                font=FONT,
                align=align,
                number_format=number_format,
            )
            cell.border = BORDER
    ws.freeze_panes = f"A{header + 1}"
    ws.print_title_rows = f"{header}:{header}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def filename(panel: Panel, scope_label: str, today) -> str:
    safe = scope_label.replace(" · ", "").replace("/", "")
    return f"{safe}{panel.title}_{today:%Y%m%d}.xlsx"
