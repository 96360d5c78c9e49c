"""What every official Excel form of qdperf shares: the house styles and a top-down form writer."""

from urllib.parse import quote

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins

THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
FONT = Font(name="宋体", size=11)
BOLD = Font(name="宋体", size=11, bold=True)
TITLE_FONT = Font(name="宋体", size=16, bold=True)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
RIGHT = Alignment(horizontal="right", vertical="center")
SHADE = PatternFill("solid", fgColor="F2F2F2")
WAN_FORMAT = "#,##0.00"
# Typed text starting like this is kept as text, never evaluated (formula injection).
FORMULA_START = ("=", "+", "-", "@")


def content_disposition(name: str) -> str:
    """The download header of an exported workbook: a Chinese file name survives every browser."""
    return f"attachment; filename*=UTF-8''{quote(name)}"


# --- reading uploaded workbooks ------------------------------------------------------------------


def is_formula_cell(cell) -> bool:
    """A formula, or text typed like one (imports never evaluate them). A lone "=" is the comparison
    等于, not a formula."""
    value = cell.value
    if isinstance(value, str) and value.strip() == "=":
        return False
    return cell.data_type == "f" or (isinstance(value, str) and value.strip().startswith("="))


def shown(value, limit: int = 30) -> str:
    """A cell value quoted in an error message, shortened."""
    text = getattr(value, "text", None) or ("" if value is None else str(value).strip())
    return text if len(text) <= limit else text[:limit] + "…"


def formula_refused(cell) -> str:
    return f"单元格是公式“{shown(cell.value)}”，请改为直接填写数值或文字（导入不计算公式）。"


def code_text(value) -> str:
    """A text or code cell as typed: 370200101 stored as a number stays 370200101."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# --- writing streamed (write-only) sheets -------------------------------------------------------


def plain_cell(ws, value):
    """A data cell of a streamed (write-only) sheet: the bare value (fast), or a text cell when typed
    text looks like a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        return cell
    return value


def styled_cell(ws, value, *, font=FONT, align=None, fill=None, number_format=None, border=None):
    """A styled cell of a streamed (write-only) sheet; typed text never becomes a formula."""
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str) and cell.data_type == "f":
        cell.data_type = "s"
    cell.font = font
    if align is not None:
        cell.alignment = align
    if fill is not None:
        cell.fill = fill
    if number_format:
        cell.number_format = number_format
    if border is not None:
        cell.border = border
    return cell


class FormWriter:
    """Writes a form top-down on one worksheet; ``row`` is the next free row."""

    def __init__(self, ws, widths: dict[str, float]):
        self.ws, self.row = ws, 1
        self._last = list(widths)[-1] if widths else None
        for letter, width in widths.items():
            ws.column_dimensions[letter].width = width

    def put(self, ref: str, value, *, font=FONT, align=LEFT, fill=None, number_format=None):
        """Write ``value`` at ``ref`` ("A1" or a range "A1:C1", merged); text is never a formula."""
        if ":" in ref:
            self.ws.merge_cells(ref)
        cell = self.ws[ref.split(":")[0]]
        cell.value = None if value == "" else value
        if cell.data_type == "f":  # text that only looks like a formula stays text
            cell.data_type = "s"
        cell.font, cell.alignment = font, align
        if fill is not None:
            cell.fill = fill
        if number_format:
            cell.number_format = number_format
        return cell

    def height(self, row: int, lines: int) -> None:
        self.ws.row_dimensions[row].height = max(20, lines * 14.5 + 6)

    # --- the blocks every official form shares ---------------------------------------------------

    @property
    def last(self) -> str:
        """The form's last column letter (the widest the title and the frame reach)."""
        return self._last

    def header_block(self, title: str, organization: str, *, unit_from: str, unit: str = "金额单位：万元") -> None:
        """Row 1: ``title`` over the whole width; row 2: “填报单位：…” up to the column before
        ``unit_from`` and the money unit (right-aligned) from ``unit_from`` to the last column."""
        last = self.last
        self.put(f"A1:{last}1", title, font=TITLE_FONT, align=CENTER)
        self.ws.row_dimensions[1].height = 32
        self.put(f"A2:{chr(ord(unit_from) - 1)}2", f"填报单位：{organization}")
        self.put(f"{unit_from}2:{last}2", unit, align=RIGHT)
        self.row = 3

    def fields(self, *pairs, lines: int, formats=()) -> None:
        """One row of label/value pairs, each ``(label columns, label, value columns, value)`` such as
        ``("A:B", "项目名称", "C:H", name)``: labels bold, centred, shaded; a value alone on its row
        or text is left-aligned, a number beside another pair right-aligned."""
        r = self.row
        for i, (label_cols, label, value_cols, value) in enumerate(pairs):
            first, last = label_cols.split(":")
            self.put(f"{first}{r}:{last}{r}", label, font=BOLD, align=CENTER, fill=SHADE)
            first, last = value_cols.split(":")
            number = len(pairs) > 1 and not isinstance(value, str)
            fmt = formats[i] if i < len(formats) else None
            self.put(f"{first}{r}:{last}{r}", value, align=RIGHT if number else LEFT, number_format=fmt)
        self.height(r, lines)
        self.row += 1

    def table_header(self, labels, *, lines: int) -> int:
        """The header row of the form's table (bold, centred, shaded); returns its row number."""
        header = self.row
        for i, label in enumerate(labels, start=1):
            self.put(f"{get_column_letter(i)}{header}", label, font=BOLD, align=CENTER, fill=SHADE)
        self.height(header, lines)
        self.row += 1
        return header

    def merge_runs(self, keys: list, column: str, first: int) -> None:
        """Merge the cells of ``column`` over each run of equal ``keys`` (rows from ``first``)."""
        start = 0
        for i in range(1, len(keys) + 1):
            if i == len(keys) or keys[i] != keys[start]:
                if i - start > 1:
                    self.ws.merge_cells(f"{column}{first + start}:{column}{first + i - 1}")
                start = i

    def finish(self, *, frame_from: int, last_row: int, header: int, print_to: int | None = None) -> None:
        """Thin borders round rows ``frame_from``–``last_row``; A4 landscape, one page wide, the
        table header repeated on every page, page numbers in the footer, no grid lines."""
        ws, last = self.ws, self.last
        for row_cells in ws.iter_rows(min_row=frame_from, max_row=last_row, min_col=1, max_col=ord(last) - 64):
            for cell in row_cells:
                cell.border = BORDER
        ws.print_area = f"A1:{last}{print_to or last_row}"
        ws.print_title_rows = f"{header}:{header}"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.5)
        ws.print_options.horizontalCentered = True
        ws.oddFooter.center.text = "第 &P 页，共 &N 页"
        ws.sheet_view.showGridLines = False
