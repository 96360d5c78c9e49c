"""What every official Excel form of qdperf shares: the house styles and a top-down form writer."""

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

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


class FormWriter:
    """Writes a form top-down on one worksheet; ``row`` is the next free row."""

    def __init__(self, ws, widths: dict[str, float]):
        self.ws, self.row = ws, 1
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
