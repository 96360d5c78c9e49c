"""Excel (openpyxl) for performance targets.

* ``target_export``: one target as the official 绩效目标申报表 (title, header block, indicator table
  with 一级/二级 merged over their rows; department targets add 年度主要任务).
* ``list_export``: every target the user may see in a year as a plain table, one row per indicator,
  written with a ``write_only`` workbook into a temporary file (memory stays flat, one SELECT).
* ``target_import``: the indicator rows and the two goal texts read back from the same layout. The
  whole file is checked first; every bad cell is reported (sheet, row, column, reason) and nothing
  is written unless all are good. Rows are cleaned by ``rows.clean_rows`` and saved by
  ``services.target_save``, like the browser form and the API.

The importer finds its way by workbook-level defined names (``QD_INDICATOR_HEADER`` …) that Excel
and LibreOffice move along when rows are inserted above; without them it looks for the labels.
"""

from __future__ import annotations

import tempfile
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.page import PageMargins

from apps.core import audit, permissions
from apps.core.excel import (  # noqa: F401  (re-exported for the other forms)
    BOLD,
    BORDER,
    CENTER,
    FONT,
    LEFT,
    RIGHT,
    SHADE,
    TITLE_FONT,
    WAN_FORMAT,
    FormWriter,
    is_formula_cell,
)
from apps.indicators.framework import Comparison, Level1, Level2

from . import services
from .models import PerformanceTarget, TargetStatus
from .rows import COLUMNS, CleanRow, RowError, clean_rows

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_TITLE = "绩效目标申报表"
LIST_SHEET_TITLE = "绩效目标清单"
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_UNPACKED_BYTES = 100 * 1024 * 1024  # a 10 MB zip that unpacks to more is not a target form
MAX_SHEET_ROWS = 2000

# The indicator table: one column per key of rows.COLUMNS, in this order, from column A.
TABLE_KEYS = ["level1", "level2", "name", "comparison", "value", "unit", "weight"]
LETTERS = {key: get_column_letter(i) for i, key in enumerate(TABLE_KEYS, start=1)}
NAME_TABLE_HEADER = "QD_INDICATOR_HEADER"
NAME_LONG_TERM_GOAL = "QD_LONG_TERM_GOAL"
NAME_ANNUAL_GOAL = "QD_ANNUAL_GOAL"
GOAL_LABELS = {NAME_LONG_TERM_GOAL: "中长期目标", NAME_ANNUAL_GOAL: "年度目标"}

WIDTHS = {"A": 12, "B": 19, "C": 38, "D": 9, "E": 14, "F": 10, "G": 8}

LEVEL1_LABELS = dict(Level1.choices)
LEVEL2_LABELS = dict(Level2.choices)
COMPARISON_LABELS = dict(Comparison.choices)
STATUS_LABELS = dict(TargetStatus.choices)


def wan(amount) -> Decimal:
    """Yuan → 万元 with two decimals (the number written into the cell)."""
    return (Decimal(amount or 0) / Decimal(10000)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _lines(text, width: float) -> int:
    """How many lines ``text`` wraps to in a column ``width`` characters wide (Chinese counts double)."""
    paragraphs = str(text or "").splitlines() or [""]
    usable = max(width - 1, 1)
    return sum(max(1, -(-_display_width(p) // int(usable))) for p in paragraphs)


def _cell_number(value: Decimal):
    """A Decimal as a number cell; as text when a float could not hold all its digits."""
    value = value.normalize()
    return f"{value:f}" if len(value.as_tuple().digits) > 15 else value


def safe_filename(text: str) -> str:
    return "".join("_" if ch in '\\/:*?"<>|' else ch for ch in text)


# --- export: one target as the 申报表 ---------------------------------------------------------


class _FormWriter(FormWriter):
    """Writes the 申报表 top-down on one worksheet; ``row`` is the next free row."""

    def __init__(self, ws):
        super().__init__(ws, WIDTHS)

    def label_row(self, label: str, value) -> int:
        r = self.row
        self.put(f"A{r}:B{r}", label, font=BOLD, align=CENTER, fill=SHADE)
        self.put(f"C{r}:G{r}", value)
        self.height(r, _lines(value, sum(WIDTHS[c] for c in "CDEFG")))
        self.row += 1
        return r

    def money_rows(self, items: list[tuple[str, Decimal]]) -> None:
        first = self.row
        self.put(f"A{first}:B{first + len(items) - 1}", "资金情况（万元）", font=BOLD, align=CENTER, fill=SHADE)
        for label, amount in items:
            self.put(f"C{self.row}", label, font=BOLD, align=LEFT, fill=SHADE)
            self.put(f"D{self.row}:G{self.row}", wan(amount), align=RIGHT, number_format=WAN_FORMAT)
            self.height(self.row, 1)
            self.row += 1

    def section(self, title: str) -> None:
        self.put(f"A{self.row}:G{self.row}", title, font=BOLD, align=LEFT)
        self.height(self.row, 1)
        self.row += 1


def _define(wb: Workbook, name: str, ws, ref: str) -> None:
    wb.defined_names[name] = DefinedName(name, attr_text=f"{quote_sheetname(ws.title)}!{ref}")


def _tasks_table(w: _FormWriter, tasks) -> None:
    w.section("年度主要任务")
    r = w.row
    for ref, label in (
        (f"A{r}", "序号"),
        (f"B{r}:C{r}", "任务名称"),
        (f"D{r}:E{r}", "金额（万元）"),
        (f"F{r}:G{r}", "说明"),
    ):
        w.put(ref, label, font=BOLD, align=CENTER, fill=SHADE)
    w.height(r, 1)
    w.row += 1
    for i, task in enumerate(tasks, start=1):
        r = w.row
        w.put(f"A{r}", i, align=CENTER)
        w.put(f"B{r}:C{r}", task.name)
        w.put(f"D{r}:E{r}", wan(task.amount), align=RIGHT, number_format=WAN_FORMAT)
        w.put(f"F{r}:G{r}", task.description)
        w.height(r, max(_lines(task.name, WIDTHS["B"] + WIDTHS["C"]), _lines(task.description, 18)))
        w.row += 1
    if not tasks:
        w.put(f"A{w.row}:G{w.row}", "未填写", align=CENTER)
        w.row += 1


def _indicator_table(w: _FormWriter, rows) -> int:
    """Header row + rows; 一级 and 二级 merged over consecutive rows of the same category."""
    w.section("年度绩效指标")
    header = w.row
    for key in TABLE_KEYS:
        w.put(f"{LETTERS[key]}{header}", COLUMNS[key], font=BOLD, align=CENTER, fill=SHADE)
    w.height(header, 1)
    w.row += 1
    first = w.row
    for row in rows:
        r = w.row
        value = row.target_text if not row.is_quantitative else _cell_number(row.target_value)
        values = {
            "level1": LEVEL1_LABELS.get(row.level1, row.level1),
            "level2": LEVEL2_LABELS.get(row.level2, row.level2),
            "name": row.name,
            "comparison": COMPARISON_LABELS.get(row.comparison, row.comparison),
            "value": value,
            "unit": row.unit,
            "weight": _cell_number(row.weight),
        }
        for key, v in values.items():
            w.put(f"{LETTERS[key]}{r}", v, align=LEFT if key == "name" else CENTER)
        w.height(r, max(_lines(row.name, WIDTHS["C"]), _lines(value if isinstance(value, str) else "", WIDTHS["E"])))
        w.row += 1
    _merge_runs(w.ws, rows, first)
    _validations(w.ws, first)
    return header


def _merge_runs(ws, rows, first: int) -> None:
    def runs(keys):
        start = 0
        for i in range(1, len(keys) + 1):
            if i == len(keys) or keys[i] != keys[start]:
                if i - start > 1:
                    yield start, i - 1
                start = i

    level1 = [r.level1 for r in rows]
    level2 = [(r.level1, r.level2) for r in rows]
    for column, keys in (("A", level1), ("B", level2)):
        for a, b in runs(keys):
            ws.merge_cells(f"{column}{first + a}:{column}{first + b}")


def _validations(ws, first: int) -> None:
    """Drop-down lists for the category and comparison columns (rows may be added below)."""
    last = first + 199
    lists = {
        "A": [label for _, label in Level1.choices],
        "B": [label for _, label in Level2.choices],
        "D": [label for _, label in Comparison.choices],
    }
    for column, options in lists.items():
        dv = DataValidation(type="list", formula1='"' + ",".join(options) + '"', allow_blank=True)
        dv.error, dv.errorTitle, dv.showErrorMessage = "请从下拉列表中选择。", "输入无效", True
        dv.add(f"{column}{first}:{column}{last}")
        ws.add_data_validation(dv)


def _borders(ws, top: int, bottom: int) -> None:
    for row in ws.iter_rows(min_row=top, max_row=bottom, min_col=1, max_col=len(TABLE_KEYS)):
        for cell in row:
            cell.border = BORDER


def _print_setup(ws, last: int, header: int) -> None:
    ws.print_area = f"A1:G{last}"
    ws.print_title_rows = f"{header}:{header}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_PORTRAIT
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def target_workbook(target: PerformanceTarget) -> Workbook:
    """The 绩效目标申报表 of one target (indicators and tasks prefetched, see ``selectors.target_detail``)."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_TITLE
    w = _FormWriter(ws)
    year = target.fiscal_year_id
    is_fund = target.kind == PerformanceTarget.Kind.FUND
    title = f"（{year}年度）{'项目支出' if is_fund else '部门整体支出'}绩效目标申报表"
    w.put("A1:G1", title, font=TITLE_FONT, align=CENTER)
    ws.row_dimensions[1].height = 32
    version = f"　版本：第{target.version}版（调整）" if target.version > 1 else ""
    w.put("A2:D2", f"填报单位：{target.organization.name}{version}", align=LEFT)
    w.put("E2:G2", "金额单位：万元", align=RIGHT)
    w.row = 3
    if is_fund:
        fund = target.fund
        w.label_row("项目名称", fund.name)
        w.label_row("项目编码", fund.code)
        w.label_row("主管部门", fund.department.name)
        w.label_row("实施单位", target.organization.name)
        same_year = fund.period_start == fund.period_end
        w.label_row("项目期限", f"{fund.period_start}年" if same_year else f"{fund.period_start}—{fund.period_end}年")
        w.money_rows(
            [
                ("年度资金总额", fund.total_amount),
                ("其中：财政拨款", fund.fiscal_amount),
                ("其他资金", fund.other_amount),
            ]
        )
    else:
        tasks = list(target.tasks.all())
        w.label_row("部门名称", target.organization.name)
        w.label_row("部门编码", target.organization.code)
        w.label_row("预算年度", f"{year}年")
        w.money_rows([("年度资金总额", sum((t.amount for t in tasks), Decimal("0")))])
    _define(wb, NAME_LONG_TERM_GOAL, ws, f"$C${w.label_row('中长期目标', target.long_term_goal)}")
    _define(wb, NAME_ANNUAL_GOAL, ws, f"$C${w.label_row('年度目标', target.annual_goal)}")
    if not is_fund:
        _tasks_table(w, tasks)
    header = _indicator_table(w, list(target.indicators.all()))
    _define(wb, NAME_TABLE_HEADER, ws, f"$A${header}:$G${header}")
    last = w.row - 1
    _borders(ws, 3, last)
    _print_setup(ws, last, header)
    ws.sheet_view.showGridLines = False
    return wb


def target_filename(target: PerformanceTarget, day: date | None = None) -> str:
    day = day or timezone.localdate()
    version = f"-第{target.version}版" if target.version > 1 else ""
    if target.kind == PerformanceTarget.Kind.FUND:
        name = f"绩效目标申报表-{target.fund.code}{version}-{day:%Y%m%d}.xlsx"
    else:
        name = f"部门整体绩效目标申报表-{target.organization.code}-{target.fiscal_year_id}{version}-{day:%Y%m%d}.xlsx"
    return safe_filename(name)


def target_export(*, actor, target: PerformanceTarget):
    """The 申报表 as a temporary file (position 0) and its file name; the export is audited."""
    wb = target_workbook(target)
    file = tempfile.TemporaryFile()  # noqa: SIM115 — the response closes (and so deletes) it
    wb.save(file)
    file.seek(0)
    audit.record(audit.Kind.EXPORT, actor=actor, obj=target, comment="导出绩效目标申报表（Excel）")
    return file, target_filename(target)


# --- export: the list --------------------------------------------------------------------------

LIST_HEADERS = [
    ("项目编码", 16),
    ("项目名称", 30),
    ("主管部门", 20),
    ("实施单位", 20),
    ("版本", 6),
    ("状态", 12),
    ("一级指标", 11),
    ("二级指标", 18),
    ("三级指标", 34),
    ("比较方式", 8),
    ("指标值", 14),
    ("计量单位", 9),
    ("分值", 7),
]
LIST_FIELDS = [
    "kind",
    "fund__code",
    "fund__name",
    "fund__department__name",
    "organization__name",
    "version",
    "status",
    "indicators__level1",
    "indicators__level2",
    "indicators__name",
    "indicators__comparison",
    "indicators__target_value",
    "indicators__target_text",
    "indicators__unit",
    "indicators__weight",
]


def list_rows(user, *, year, status: str = "", q: str = ""):
    """One tuple per indicator of every target the user may see in ``year`` (a target without
    indicators gives one row with the indicator columns empty). A single SELECT with a LEFT JOIN."""
    targets = PerformanceTarget.objects.restrict(user, "target.view").filter(fiscal_year=year)
    if status:
        targets = targets.filter(status=status)
    if q:
        targets = targets.filter(Q(fund__name__icontains=q) | Q(fund__code__icontains=q))
    return targets.order_by(
        "organization__path", "fund__code", "-version", "pk", "indicators__sort_order", "indicators__id"
    ).values_list(*LIST_FIELDS)


def _list_row(values) -> list:
    kind, code, fund_name, department, org, version, status, l1, l2, name, comp, value, text, unit, weight = values
    if kind == PerformanceTarget.Kind.DEPARTMENT:
        code, fund_name, department = "", f"{org}部门整体", org
    if comp is None:  # a target without indicator rows
        indicator = [""] * 7
    else:
        shown = text if comp == Comparison.QUALITATIVE else ("" if value is None else _cell_number(value))
        indicator = [
            LEVEL1_LABELS.get(l1, l1),
            LEVEL2_LABELS.get(l2, l2),
            name,
            COMPARISON_LABELS.get(comp, comp),
            shown,
            unit,
            _cell_number(weight),
        ]
    row = [code, fund_name, department, org, version, STATUS_LABELS.get(status, status), *indicator]
    return [None if v == "" else v for v in row]


def list_export(*, actor, year: int, status: str = "", q: str = "", chunk_size: int = 2000):
    """All visible targets of ``year`` as a plain table, streamed row by row into a temporary file."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(LIST_SHEET_TITLE)
    for i, (_, width) in enumerate(LIST_HEADERS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    header = []
    for label, _ in LIST_HEADERS:
        cell = WriteOnlyCell(ws, value=label)
        cell.font, cell.fill, cell.alignment = BOLD, SHADE, CENTER
        header.append(cell)
    ws.append(header)
    count = 0
    for values in list_rows(actor, year=year, status=status, q=q).iterator(chunk_size=chunk_size):
        row = _list_row(values)
        for i, value in enumerate(row):  # text typed by people (even a fund code) is never a formula
            if isinstance(value, str) and value.startswith(("=", "+", "-", "@")):
                cell = WriteOnlyCell(ws, value=value)
                cell.data_type = "s"
                row[i] = cell
        ws.append(row)
        count += 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(LIST_HEADERS))}{count + 1}"
    file = tempfile.TemporaryFile()  # noqa: SIM115 — the response closes (and so deletes) it
    wb.save(file)
    file.seek(0)
    audit.record(
        audit.Kind.EXPORT,
        actor=actor,
        comment=f"导出绩效目标清单（{year}年度{'，' + STATUS_LABELS[status] if status else ''}，{count} 行）",
    )
    day = timezone.localdate()
    return file, f"绩效目标清单-{year}-{day:%Y%m%d}.xlsx"


# --- import ------------------------------------------------------------------------------------


@dataclass
class CellError(RowError):
    """A bad cell of an imported sheet: ``工作表“…”第 12 行 E 列（指标值）：原因``."""

    letter: str = ""
    label: str = ""

    def __str__(self) -> str:
        where = f"工作表“{self.sheet}”第 {self.sheet_row} 行"
        if self.letter:
            where += f" {self.letter} 列（{self.label}）"
        return f"{where}：{self.message}"


class ImportRefused(ValidationError):
    """The file was not imported. ``problems``: whole-file reasons; ``cell_errors``: every bad cell."""

    def __init__(self, problems: Sequence[str] = (), cell_errors: Sequence[CellError] = ()):
        self.problems, self.cell_errors = list(problems), list(cell_errors)
        super().__init__([*self.problems, *map(str, self.cell_errors)])


MSG_NOT_XLSX = "只能导入 .xlsx 格式的 Excel 文件（.xls、.csv、.et 等请先在 Excel 中另存为“Excel 工作簿(*.xlsx)”）。"
MSG_BAD_CONTENT = "文件内容不是有效的 Excel 工作簿（.xlsx），可能已损坏或只是改了扩展名，请重新导出后填写。"
MSG_NO_FILE = "请选择要导入的 Excel 文件。"
MSG_NO_SHEET = f"找不到工作表“{SHEET_TITLE}”，请使用本系统导出的绩效目标申报表填写。"
MSG_NO_TABLE = "找不到指标表的表头（一级指标、二级指标、三级指标……），请使用本系统导出的绩效目标申报表填写。"
MSG_EMPTY = "指标表中没有填写任何指标行，未导入。"


def open_upload(upload):
    """The uploaded file as an openpyxl workbook (formulas kept as formulas), or ``ImportRefused``."""
    if upload is None:
        raise ImportRefused([MSG_NO_FILE])
    if not (upload.name or "").lower().endswith(".xlsx"):
        raise ImportRefused([MSG_NOT_XLSX])
    if upload.size > MAX_UPLOAD_BYTES:
        raise ImportRefused([f"文件大小为 {upload.size / 1024 / 1024:.1f} MB，超过 10 MB 的上限。"])
    upload.seek(0)
    signature = upload.read(4)
    upload.seek(0)
    if signature != b"PK\x03\x04":
        raise ImportRefused([MSG_BAD_CONTENT])
    try:
        with zipfile.ZipFile(upload) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        upload.seek(0)
        if unpacked > MAX_UNPACKED_BYTES:
            raise ImportRefused(["文件解压后内容过大，不像是绩效目标申报表，请检查是否选错了文件。"])
        return load_workbook(upload, data_only=False, keep_links=False)
    except ImportRefused:
        raise
    except Exception:  # noqa: BLE001 — openpyxl raises many kinds (zip, XML, KeyError …) on a bad file
        raise ImportRefused([MSG_BAD_CONTENT])


def _destination(wb, name: str):
    """(worksheet, first row, first column letter) a defined name points to, or None."""
    defined = wb.defined_names.get(name)
    if defined is None:
        return None
    try:
        sheet, ref = next(iter(defined.destinations))
        ws = wb[sheet]
    except (StopIteration, KeyError, ValueError, TypeError):
        return None
    first = ref.split(":")[0].replace("$", "")
    letters = "".join(ch for ch in first if ch.isalpha())
    digits = "".join(ch for ch in first if ch.isdigit())
    return (ws, int(digits), letters) if digits else None


def _is_table_header(ws, row: int) -> bool:
    cells = [str(ws.cell(row, i).value or "").strip() for i in (1, 2, 3)]
    return cells == [COLUMNS["level1"], COLUMNS["level2"], COLUMNS["name"]]


def _check_size(ws) -> None:
    if ws.max_row > MAX_SHEET_ROWS:
        raise ImportRefused([f"工作表“{ws.title}”有 {ws.max_row} 行，超过 {MAX_SHEET_ROWS} 行，请检查文件。"])


def _find_table(wb):
    """The worksheet and the row of the indicator table's header."""
    found = _destination(wb, NAME_TABLE_HEADER)
    if found is not None and _is_table_header(found[0], found[1]):
        return found[0], found[1]
    ws = wb[SHEET_TITLE] if SHEET_TITLE in wb.sheetnames else None
    if ws is None:
        if found is None and len(wb.worksheets) != 1:
            raise ImportRefused([MSG_NO_SHEET])
        ws = found[0] if found is not None else wb.worksheets[0]
    _check_size(ws)
    for row in range(1, ws.max_row + 1):
        if _is_table_header(ws, row):
            return ws, row
    raise ImportRefused([MSG_NO_TABLE])


def _formula_text(cell) -> str:
    text = getattr(cell.value, "text", None) or str(cell.value)
    return text if len(text) <= 30 else text[:30] + "…"


def _formula_error(cell, ws, *, row=0, column="", label="") -> CellError:
    return CellError(
        row=row,
        column=column,
        message=f"单元格是公式“{_formula_text(cell)}”，请改为直接填写数值或文字（导入不计算公式）。",
        sheet=ws.title,
        sheet_row=cell.row,
        letter=cell.column_letter,
        label=label or COLUMNS.get(column, ""),
    )


def _text(value) -> str:
    """A cell value as the text a person would have typed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _merged_values(ws, top: int, bottom: int) -> dict[tuple[int, int], object]:
    """(row, column) → the value shown there, for the cells hidden under a merged range."""
    shown = {}
    for merged in ws.merged_cells.ranges:
        if merged.max_row < top or merged.min_row > bottom or merged.min_col > len(TABLE_KEYS):
            continue
        value = ws.cell(merged.min_row, merged.min_col).value
        for row in range(merged.min_row, merged.max_row + 1):
            for col in range(merged.min_col, merged.max_col + 1):
                if (row, col) != (merged.min_row, merged.min_col):
                    shown[(row, col)] = value
    return shown


def _goal(wb, ws, name: str, errors: list[CellError]) -> str | None:
    """A goal text from its defined name, or from the cell right of its label; None if not found."""
    label = GOAL_LABELS[name]
    found = _destination(wb, name)
    if found is not None and found[0] is ws:
        cell = ws[f"{found[2]}{found[1]}"]
    else:
        cell = None
        for row in ws.iter_rows(min_row=1, max_row=min(ws.max_row, 60), min_col=1, max_col=1):
            if _text(row[0].value) == label:
                cell = ws.cell(row[0].row, 3)
                break
        if cell is None:
            return None
    if is_formula_cell(cell):
        errors.append(_formula_error(cell, ws, label=label))
        return ""
    return _text(cell.value)


@dataclass
class ParsedSheet:
    title: str
    long_term_goal: str
    annual_goal: str
    rows: list[CleanRow]


def read_target_sheet(wb) -> ParsedSheet:
    """Every indicator row and the two goals, validated; ``ImportRefused`` lists every bad cell."""
    ws, header = _find_table(wb)
    _check_size(ws)
    errors: list[CellError] = []
    problems: list[str] = []
    goals = {name: _goal(wb, ws, name, errors) for name in GOAL_LABELS}
    for name, value in goals.items():
        if value is None:
            problems.append(f"找不到“{GOAL_LABELS[name]}”栏，请使用本系统导出的绩效目标申报表填写。")
    merged = _merged_values(ws, header + 1, ws.max_row)
    raws, sheet_rows, formulas = [], [], set()
    for cells in ws.iter_rows(min_row=header + 1, max_row=ws.max_row, min_col=1, max_col=len(TABLE_KEYS)):
        if all(_text(c.value) == "" for c in cells):
            continue  # a blank line (or the hidden part of a merged category)
        position = len(raws) + 1
        raw = {}
        for key, cell in zip(TABLE_KEYS, cells, strict=True):
            if is_formula_cell(cell):
                errors.append(_formula_error(cell, ws, row=position, column=key))
                formulas.add((position, key))
                raw[key] = ""
                continue
            raw[key] = _text(merged.get((cell.row, cell.column), cell.value))
        raws.append(raw)
        sheet_rows.append(cells[0].row)
    if not raws and not problems:
        problems.append(MSG_EMPTY)
    rows, row_errors = clean_rows(raws)
    for e in row_errors:
        if (e.row, e.column) in formulas:
            continue  # already reported as a formula
        errors.append(
            CellError(
                row=e.row,
                column=e.column,
                message=e.message,
                sheet=ws.title,
                sheet_row=sheet_rows[e.row - 1],
                letter=LETTERS.get(e.column, ""),
                label=COLUMNS.get(e.column, ""),
            )
        )
    if problems or errors:
        errors.sort(key=lambda e: (e.sheet_row or 0, e.letter))
        raise ImportRefused(problems, errors)
    return ParsedSheet(ws.title, goals[NAME_LONG_TERM_GOAL], goals[NAME_ANNUAL_GOAL], rows)


def target_import(*, actor, target: PerformanceTarget, upload) -> int:
    """Replace the target's indicator rows and goals with the file's. Returns the number of rows.

    ``ImportRefused`` (bad file or cells) and the service's ``ValidationError``/``PermissionDenied``
    mean nothing was written. A row keeps its library link when the target had a row of that name.
    """
    if not permissions.can(actor, "target.edit", target):
        raise PermissionDenied("您无权修改该绩效目标。")
    parsed = read_target_sheet(open_upload(upload))
    library = {}
    for row in target.indicators.all():
        library.setdefault(row.name, row.library_indicator_id)
    for row in parsed.rows:
        row.library_indicator_id = library.get(row.name)
    services.target_save(
        actor=actor,
        target=target,
        long_term_goal=parsed.long_term_goal,
        annual_goal=parsed.annual_goal,
        rows=parsed.rows,
    )
    return len(parsed.rows)
