"""Excel (openpyxl) for 双监控.

* ``execution_import``: the treasury's executed amounts by fund code for a whole round, checked in
  full first (every bad cell named by sheet, row, column and reason), written all or nothing into
  ``imported_executed_amount`` with one ``bulk_update`` and one audit row on the round.
* ``execution_template``: the file to fill, with the round's fund codes and an empty amount column.
* ``report_export``: one report as the official 项目支出绩效运行监控表 (A4 landscape).
* ``summary_export``: a round as a ``write_only`` workbook, a summary sheet per department first and
  one sheet per department after it, in a constant number of queries.

Fonts, borders, ``wan()``, ``safe_filename`` and the upload checks come from ``apps.targets.excel``.
"""

from __future__ import annotations

import math
import re
import tempfile
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

from apps.core import audit, permissions
from apps.core.excel import FormWriter, code_text, formula_refused, is_formula_cell, plain_cell, shown, styled_cell
from apps.core.templatetags.qd import cn_date
from apps.indicators.framework import Comparison, Level1, Level2
from apps.targets import excel as target_excel
from apps.targets.excel import (
    BOLD,
    CENTER,
    FONT,
    LEFT,
    MSG_BAD_CONTENT,
    MSG_NO_FILE,
    MSG_NOT_XLSX,
    SHADE,
    TITLE_FONT,
    WAN_FORMAT,
    XLSX_CONTENT_TYPE,
    CellError,
    ImportRefused,
    safe_filename,
    wan,
)

from . import rules
from .models import IndicatorProgress, KeyMonitoring, MonitoringReport, MonitoringRound
from .selectors import SUBMITTED, executed_of

__all__ = [
    "MSG_BAD_CONTENT",
    "MSG_NO_FILE",
    "MSG_NOT_XLSX",
    "XLSX_CONTENT_TYPE",
    "CellError",
    "ImportRefused",
    "execution_import",
    "execution_template",
    "report_export",
    "summary_export",
]

# --- import of executed amounts --------------------------------------------------------------

CODE_LABEL, AMOUNT_LABEL = "项目编码", "已执行金额"
CODE_ALIASES = ("项目编码", "项目代码", "编码")
AMOUNT_ALIASES = ("已执行金额", "支出金额", "执行数", "实际支出")
UNITS = {"元": Decimal(1), "万元": Decimal(10000)}
HEADER_SCAN_ROWS = 10
MAX_DATA_ROWS = 50_000
IMPORT_BATCH = 1000  # rows per UPDATE … CASE statement: PostgreSQL evaluates the CASE per row
MAX_AMOUNT = Decimal("1e16")  # NUMERIC(18,2)
CENT = Decimal("0.01")

MSG_EMPTY = "工作簿是空的，没有可导入的数据。"
MSG_TOO_BIG_UNPACKED = "文件解压后内容过大，不像是执行数据表，请检查是否选错了文件。"
MSG_CODE_EMPTY = "请填写项目编码。"
MSG_AMOUNT_EMPTY = "请填写已执行金额。"
MSG_AMOUNT_NEGATIVE = "已执行金额不能为负数。"
MSG_AMOUNT_TOO_BIG = "已执行金额超出允许的范围。"

# "已执行金额（万元）", "支出金额(元)" → name and unit; full- or half-width brackets.
_UNIT_HINT = re.compile(r"^(?P<name>.*?)[（(](?P<unit>[^（）()]*)[)）]$")


def open_workbook(upload):
    """``apps.targets.excel.open_upload`` (extension, zip signature, ≤ 10 MB, unpacked size, any
    parse error → ``ImportRefused``), with its one target-specific message reworded."""
    try:
        return target_excel.open_upload(upload)
    except ImportRefused as exc:
        problems = [MSG_TOO_BIG_UNPACKED if p.startswith("文件解压后内容过大") else p for p in exc.problems]
        raise ImportRefused(problems, exc.cell_errors) from None


def _header_name(value) -> tuple[str, str | None]:
    """A header cell → (column name without spaces, unit hint or None)."""
    text = "".join(str(value or "").split()).lstrip("*＊")
    match = _UNIT_HINT.match(text)
    if match:
        return match["name"], match["unit"]
    return text, None


@dataclass
class Layout:
    sheet: str
    header_row: int
    code_col: int
    amount_col: int
    multiplier: Decimal


@dataclass
class ParsedExecution:
    layout: Layout
    rows: list[tuple[int, str, Decimal]] = field(default_factory=list)  # (sheet row, code, amount in 元)
    errors: list[CellError] = field(default_factory=list)


def _scan_header(ws) -> tuple[Layout | None, list[str]]:
    """The header row among the first 10, or the problems that explain why there is none."""
    problems: list[str] = []
    saw_code = saw_amount = False
    for cells in ws.iter_rows(min_row=1, max_row=min(ws.max_row, HEADER_SCAN_ROWS)):
        codes, amounts = [], []
        for cell in cells:
            if not isinstance(cell.value, str):
                continue
            name, unit = _header_name(cell.value)
            if name in CODE_ALIASES:
                codes.append(cell)
            elif name in AMOUNT_ALIASES:
                amounts.append((cell, unit))
        saw_code, saw_amount = saw_code or bool(codes), saw_amount or bool(amounts)
        if not (codes and amounts):
            continue
        row = cells[0].row
        if len(codes) > 1 or len(amounts) > 1:
            columns = "、".join(f"{c.column_letter} 列“{c.value}”" for c in [*codes, *(a for a, _ in amounts)])
            problems.append(
                f"工作表“{ws.title}”第 {row} 行的表头有重复的列（{columns}），请只保留一个项目编码列和一个金额列。"
            )
            return None, problems
        (code,), ((amount, unit),) = codes, amounts
        if unit is not None and unit not in UNITS:
            problems.append(
                f"工作表“{ws.title}”第 {row} 行 {amount.column_letter} 列“{amount.value}”：金额单位“{unit}”无法识别，"
                "只能是“元”或“万元”。"
            )
            return None, problems
        return Layout(ws.title, row, code.column, amount.column, UNITS[unit or "元"]), problems
    where = f"工作表“{ws.title}”前 {HEADER_SCAN_ROWS} 行中"
    if not saw_code:
        problems.append(f"{where}找不到“项目编码”列（表头也可写作“项目代码”或“编码”）。")
    if not saw_amount:
        problems.append(f"{where}找不到“已执行金额”列（表头也可写作“支出金额”“执行数”或“实际支出”）。")
    if saw_code and saw_amount:
        problems.append(f"{where}“项目编码”列和“已执行金额”列的表头应在同一行。")
    return None, problems


def _has_values(ws) -> bool:
    return any(v not in (None, "") for row in ws.iter_rows(values_only=True) for v in row)


def _find_sheet(wb):
    """The first worksheet with a valid header; otherwise ``ImportRefused`` naming what is missing."""
    first_problems = None
    for ws in wb.worksheets:
        layout, problems = _scan_header(ws)
        if layout is not None:
            return ws, layout
        if first_problems is None and _has_values(ws):
            first_problems = problems
    raise ImportRefused(first_problems or [MSG_EMPTY])


def _amount(value, multiplier: Decimal) -> tuple[Decimal | None, str]:
    """(amount in 元, "") or (None, reason)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, MSG_AMOUNT_EMPTY
    typed = shown(value)
    if isinstance(value, bool):
        return None, f"“{typed}”不是数字。"
    if isinstance(value, int | float | Decimal):
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            return None, f"“{typed}”不是有效的金额。"
        number = Decimal(str(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(",", "").replace("，", ""))
        except InvalidOperation:
            return None, f"“{typed}”不是数字。"
    else:  # a date, a time …
        return None, f"“{typed}”不是数字。"
    if not number.is_finite():
        return None, f"“{typed}”不是有效的金额。"
    if number < 0:
        return None, MSG_AMOUNT_NEGATIVE
    yuan = (number * multiplier).quantize(CENT, rounding=ROUND_HALF_UP) if number < MAX_AMOUNT else MAX_AMOUNT
    if yuan >= MAX_AMOUNT:
        return None, MSG_AMOUNT_TOO_BIG
    return yuan, ""


def read_execution_sheet(wb) -> ParsedExecution:
    """Every data row with its code and amount (元), and every bad cell the file alone reveals
    (formulas, empty or bad amounts, empty or repeated codes). Whole-file problems raise."""
    ws, layout = _find_sheet(wb)
    if ws.max_row - layout.header_row > MAX_DATA_ROWS:
        raise ImportRefused([f"工作表“{ws.title}”超过 {MAX_DATA_ROWS} 行，请检查文件。"])
    parsed = ParsedExecution(layout)
    code_letter, amount_letter = get_column_letter(layout.code_col), get_column_letter(layout.amount_col)
    first_col, last_col = sorted((layout.code_col, layout.amount_col))
    seen: dict[str, int] = {}

    def bad(cell, letter, label, message):
        parsed.errors.append(
            CellError(
                row=cell.row - layout.header_row,
                column="code" if label == CODE_LABEL else "amount",
                message=message,
                sheet=ws.title,
                sheet_row=cell.row,
                letter=letter,
                label=label,
            )
        )

    for cells in ws.iter_rows(min_row=layout.header_row + 1, max_row=ws.max_row, min_col=first_col, max_col=last_col):
        code_cell, amount_cell = cells[layout.code_col - first_col], cells[layout.amount_col - first_col]
        if code_text(code_cell.value) == "" and (amount_cell.value is None or str(amount_cell.value).strip() == ""):
            continue  # a blank line
        code, amount, ok = "", None, True
        if is_formula_cell(code_cell):
            bad(code_cell, code_letter, CODE_LABEL, formula_refused(code_cell))
            ok = False
        else:
            code = code_text(code_cell.value)
            if not code:
                bad(code_cell, code_letter, CODE_LABEL, MSG_CODE_EMPTY)
                ok = False
            elif code in seen:
                bad(code_cell, code_letter, CODE_LABEL, f"项目编码“{code}”重复，与第 {seen[code]} 行相同。")
                ok = False
            else:
                seen[code] = code_cell.row
        if is_formula_cell(amount_cell):
            bad(amount_cell, amount_letter, AMOUNT_LABEL, formula_refused(amount_cell))
            ok = False
        else:
            amount, reason = _amount(amount_cell.value, layout.multiplier)
            if reason:
                bad(amount_cell, amount_letter, AMOUNT_LABEL, reason)
                ok = False
        if ok:
            parsed.rows.append((code_cell.row, code, amount))
        elif code and code in seen and seen[code] == code_cell.row:
            parsed.rows.append((code_cell.row, code, None))  # still checked against the round's codes
    if not parsed.rows and not parsed.errors:
        raise ImportRefused([f"工作表“{ws.title}”只有表头，没有数据行，未导入。"])
    return parsed


@transaction.atomic
def execution_import(*, actor, round: MonitoringRound, file) -> int:  # noqa: A002 — the brief's name
    """Set the treasury's executed amount of every report named in the file. Returns the count.

    ``ImportRefused`` lists every bad cell; then, as on ``PermissionDenied``/``ValidationError``,
    nothing was written."""
    round_ = round
    if not permissions.can(actor, "monitoring.manage", round_.organization):
        raise PermissionDenied("您无权为该监控轮次导入执行数。")
    if round_.status == MonitoringRound.Status.CLOSED:
        raise ValidationError("该监控轮次已结束，不能再导入执行数。")
    parsed = read_execution_sheet(open_workbook(file))
    # Serialise imports of one round; the codes are read under the lock.
    MonitoringRound.objects.select_for_update().filter(pk=round_.pk).values_list("pk", flat=True).get()
    report_ids = dict(MonitoringReport.objects.filter(round=round_).values_list("fund__code", "pk").iterator())
    errors = list(parsed.errors)
    code_letter = get_column_letter(parsed.layout.code_col)
    for sheet_row, code, _ in parsed.rows:
        if code not in report_ids:
            errors.append(
                CellError(
                    row=sheet_row - parsed.layout.header_row,
                    column="code",
                    message=f"项目编码“{code}”不在本监控轮次中（本轮没有该项目的监控任务）。",
                    sheet=parsed.layout.sheet,
                    sheet_row=sheet_row,
                    letter=code_letter,
                    label=CODE_LABEL,
                )
            )
    if errors:
        errors.sort(key=lambda e: (e.sheet_row or 0, e.letter))
        raise ImportRefused((), errors)
    now = timezone.now()
    reports = [
        MonitoringReport(pk=report_ids[code], imported_executed_amount=amount, imported_at=now)
        for _, code, amount in parsed.rows
    ]
    MonitoringReport.objects.bulk_update(reports, ["imported_executed_amount", "imported_at"], batch_size=IMPORT_BATCH)
    audit.record(audit.Kind.UPDATE, actor=actor, obj=round_, comment=f"导入执行数 {len(reports)} 条")
    return len(reports)


# --- shared writing helpers ------------------------------------------------------------------


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _lines(text, width: float) -> int:
    """Lines ``text`` wraps to in a column ``width`` characters wide (``targets.excel._lines`` is private)."""
    usable = max(int(width) - 1, 1)
    return sum(max(1, -(-_display_width(p) // usable)) for p in (str(text or "").splitlines() or [""]))


def _save(wb):
    """The workbook in a temporary file at position 0."""
    file = tempfile.TemporaryFile()  # noqa: SIM115 — the response closes (and so deletes) it
    wb.save(file)
    file.seek(0)
    return file


def _num(value: Decimal | None) -> str:
    """4-place Decimal → plain text without trailing zeros or exponent: 1200.0000 → '1200'."""
    return "" if value is None else f"{value.normalize():f}"


# --- the template to fill ---------------------------------------------------------------------

TEMPLATE_SHEET = "执行数"
TEMPLATE_HEADERS = [("项目编码", 20), ("项目名称", 40), ("主管部门", 24), ("实施单位", 24), ("已执行金额（元）", 18)]


def execution_template(*, actor, round: MonitoringRound):  # noqa: A002
    """The round's fund codes (sorted) with an empty amount column, as a temporary file and a name."""
    round_ = round
    if not permissions.can(actor, "monitoring.manage", round_.organization):
        raise PermissionDenied("您无权导入该监控轮次的执行数。")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(TEMPLATE_SHEET)
    for i, (_, width) in enumerate(TEMPLATE_HEADERS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A3"
    note = (
        "说明：请在“已执行金额”列填写截至数据截止日期的执行数，单位为元；"
        "按万元填写时请把表头改为“已执行金额（万元）”。不要使用公式。"
    )
    ws.append([styled_cell(ws, note, align=LEFT)])
    ws.append([styled_cell(ws, label, font=BOLD, fill=SHADE, align=CENTER) for label, _ in TEMPLATE_HEADERS])
    rows = (
        MonitoringReport.objects.filter(round=round_)
        .order_by("fund__code")
        .values_list("fund__code", "fund__name", "fund__department__name", "organization__name")
    )
    count = 0
    for values in rows.iterator(chunk_size=2000):
        code_cell = WriteOnlyCell(ws, value=values[0])
        code_cell.data_type, code_cell.number_format = "s", "@"
        ws.append([code_cell, *(plain_cell(ws, v) for v in values[1:])])
        count += 1
    audit.record(audit.Kind.EXPORT, actor=actor, obj=round_, comment=f"下载执行数导入模板（{count} 个项目）")
    name = safe_filename(f"执行数导入模板-{round_.organization.name}-{timezone.localdate():%Y%m%d}.xlsx")
    return _save(wb), name


# --- one report as the 绩效运行监控表 ---------------------------------------------------------

REPORT_SHEET = "绩效运行监控表"
TABLE_HEADERS = [
    ("一级指标", 11),
    ("二级指标", 15),
    ("三级指标", 28),
    ("年度指标值", 14),
    ("截至目前完成值", 14),
    ("全年预计完成值", 14),
    ("能否完成目标", 11),
    ("偏差原因", 13),
    ("纠偏措施", 32),
]
WIDTHS = {get_column_letter(i): w for i, (_, w) in enumerate(TABLE_HEADERS, start=1)}
LAST = get_column_letter(len(TABLE_HEADERS))  # I
RATE_FORMAT = '0.00"%"'
LEVEL1_LABELS, LEVEL2_LABELS = dict(Level1.choices), dict(Level2.choices)
COMPARISON_LABELS = dict(Comparison.choices)
LIKELIHOOD_LABELS = dict(IndicatorProgress.Likelihood.choices)
CAUSE_LABELS = dict(IndicatorProgress.Cause.choices)
MEASURE_LABELS = dict(KeyMonitoring.Measure.choices)


class _Sheet(FormWriter):
    """Writes the 监控表 top-down (9 columns)."""

    def __init__(self, ws):
        super().__init__(ws, WIDTHS)

    def pair(self, left: tuple[str, object], right: tuple[str, object] | None = None, *, formats=(None, None)):
        """Label A:B, value C:E, label F:G, value H:I (or one value over C:I)."""
        if right is None:
            lines = _lines(left[1], sum(WIDTHS[c] for c in "CDEFGHI"))
            self.fields(("A:B", left[0], f"C:{LAST}", left[1]), lines=lines, formats=formats)
        else:
            self.fields(
                ("A:B", left[0], "C:E", left[1]),
                ("F:G", right[0], f"H:{LAST}", right[1]),
                lines=max(_lines(left[1], 42), _lines(right[1], 46)),
                formats=formats,
            )


def _target_text(ind) -> str:
    if ind.comparison == Comparison.QUALITATIVE:
        return ind.target_text
    return f"{COMPARISON_LABELS.get(ind.comparison, '')}{_num(ind.target_value)}{ind.unit}"


def _value_text(value: Decimal | None, unit: str) -> str:
    return "" if value is None else f"{_num(value)}{unit}"


def report_workbook(report: MonitoringReport, progress: list[IndicatorProgress]) -> Workbook:
    """The form of one report (``fund__department``, ``organization`` and ``round`` selected;
    ``progress`` with ``indicator`` selected, in indicator order)."""
    round_ = report.round
    wb = Workbook()
    ws = wb.active
    ws.title = REPORT_SHEET
    w = _Sheet(ws)
    w.header_block(f"（{round_.fiscal_year_id}年度）项目支出绩效运行监控表", report.organization.name, unit_from="G")
    fund = report.fund
    executed = executed_of(report)
    rate = rules.execution_rate(executed, report.budget_amount)
    unit_figure = wan(report.executed_amount) if report.executed_amount is not None else "未填报"
    imported = wan(report.imported_executed_amount) if report.imported_executed_amount is not None else "未导入"
    w.pair(("项目名称", fund.name), ("项目编码", fund.code))
    w.pair(("主管部门", fund.department.name), ("实施单位", report.organization.name))
    w.pair(
        ("数据截止日期", cn_date(round_.data_as_of)),
        ("时间进度", rules.elapsed_share(round_.data_as_of, round_.fiscal_year_id)),
        formats=(None, RATE_FORMAT),
    )
    w.pair(
        ("年度预算（万元）", wan(report.budget_amount)),
        ("执行率", rate if rate is not None else "—"),
        formats=(WAN_FORMAT, RATE_FORMAT),
    )
    w.pair(("执行数（万元）", unit_figure), ("国库支付系统执行数（万元）", imported), formats=(WAN_FORMAT, WAN_FORMAT))
    w.pair(("执行情况说明", report.execution_note))
    w.put(f"A{w.row}:{LAST}{w.row}", "绩效指标完成情况", font=BOLD)
    w.height(w.row, 1)
    w.row += 1
    header = w.table_header([label for label, _ in TABLE_HEADERS], lines=1)
    first = w.row
    for p in progress:
        ind, r = p.indicator, w.row
        quantitative = ind.comparison != Comparison.QUALITATIVE
        values = [
            LEVEL1_LABELS.get(ind.level1, ind.level1),
            LEVEL2_LABELS.get(ind.level2, ind.level2),
            ind.name,
            _target_text(ind),
            _value_text(p.progress_value, ind.unit) if quantitative else p.progress_text,
            _value_text(p.expected_value, ind.unit) if quantitative else "",
            LIKELIHOOD_LABELS.get(p.likelihood, ""),
            CAUSE_LABELS.get(p.deviation_cause, ""),
            p.corrective_measure,
        ]
        for i, value in enumerate(values, start=1):
            w.put(f"{get_column_letter(i)}{r}", value, align=LEFT if i in (3, 9) else CENTER)
        w.height(
            r, max(_lines(ind.name, WIDTHS["C"]), _lines(p.corrective_measure, WIDTHS["I"]), _lines(values[4], 14))
        )
        w.row += 1
    if not progress:
        w.put(f"A{w.row}:{LAST}{w.row}", "无绩效指标", align=CENTER)
        w.row += 1
    indicators = [p.indicator for p in progress]
    w.merge_runs([i.level1 for i in indicators], "A", first)
    w.merge_runs([(i.level1, i.level2) for i in indicators], "B", first)
    w.finish(frame_from=3, last_row=w.row - 1, header=header)
    return wb


def report_filename(report: MonitoringReport, day: date | None = None) -> str:
    day = day or timezone.localdate()
    return safe_filename(f"绩效运行监控表-{report.fund.code}-{day:%Y%m%d}.xlsx")


def report_export(*, actor, report: MonitoringReport):
    """The 绩效运行监控表 as a temporary file and its name; the caller has checked visibility."""
    progress = list(
        IndicatorProgress.objects.filter(report=report)
        .select_related("indicator")
        .order_by("indicator__sort_order", "indicator_id")
    )
    file = _save(report_workbook(report, progress))
    audit.record(audit.Kind.EXPORT, actor=actor, obj=report, comment="导出绩效运行监控表（Excel）")
    return file, report_filename(report)


# --- the round's summary ----------------------------------------------------------------------

SUMMARY_SHEET = "汇总"
SUMMARY_HEADERS = [
    ("主管部门", 30),
    ("项目数", 8),
    ("年度预算（万元）", 16),
    ("执行数（万元）", 16),
    ("执行率（%）", 11),
    ("预警数", 8),
]
DEPARTMENT_HEADERS = [
    ("项目编码", 18),
    ("项目名称", 40),
    ("年度预算（万元）", 16),
    ("执行数（万元）", 16),
    ("执行率（%）", 11),
    ("预警数", 8),
    ("重点监控措施", 16),
]
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _sheet_title(name: str, used: set[str]) -> str:
    """A valid, unique worksheet title (≤ 31 characters, none of []:*?/\\)."""
    base = _BAD_SHEET_CHARS.sub("_", name).strip("'") or "部门"
    title, n = base[:31], 1
    while title in used:
        n += 1
        suffix = f"({n})"
        title = base[: 31 - len(suffix)] + suffix
    used.add(title)
    return title


@dataclass
class _Totals:
    funds: int = 0
    budget: Decimal = Decimal(0)
    executed: Decimal = Decimal(0)
    warnings: int = 0

    def add(self, budget: Decimal, executed: Decimal | None, warnings: int) -> None:
        self.funds += 1
        self.budget += budget
        self.executed += executed or 0
        self.warnings += warnings

    @property
    def rate(self) -> Decimal | None:
        return rules.execution_rate(self.executed, self.budget)


def _header_row(ws, headers):
    for i, (_, width) in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.append([styled_cell(ws, label, font=BOLD, fill=SHADE, align=CENTER) for label, _ in headers])


def _money(ws, yuan: Decimal, *, font=FONT):
    return styled_cell(ws, wan(yuan), font=font, number_format=WAN_FORMAT)


def _rate(ws, rate: Decimal | None, *, font=FONT):
    return styled_cell(ws, rate, font=font, number_format="0.00") if rate is not None else None


REPORT_FIELDS = (
    "pk",
    "fund__code",
    "fund__name",
    "fund__department_id",
    "fund__department__name",
    "budget_amount",
    "executed_amount",
    "imported_executed_amount",
    "status",
    "key_measure",
)


def summary_rows(user, round_: MonitoringRound):
    """Reports of the round in the user's scope, by department and code (one SELECT), and the
    indicator tuples of each for the warning rules (one more SELECT)."""
    reports = MonitoringReport.objects.restrict(user, "monitoring.view").filter(round=round_)
    key_measure = KeyMonitoring.objects.filter(fund=OuterRef("fund"), fiscal_year_id=round_.fiscal_year_id).values(
        "measure"
    )[:1]
    rows = (
        reports.annotate(key_measure=Subquery(key_measure))
        .order_by("fund__department__path", "fund__department_id", "fund__code", "pk")
        .values_list(*REPORT_FIELDS)
    )
    indicators: dict[int, list] = defaultdict(list)
    progress = IndicatorProgress.objects.filter(report__in=reports.values("pk")).values_list(
        "report_id", "indicator__name", "indicator__comparison", "indicator__target_value", "expected_value",
        "likelihood",
    )  # fmt: skip
    for report_id, *values in progress.iterator(chunk_size=5000):
        indicators[report_id].append(tuple(values))
    return rows, indicators


def summary_export(*, actor, round: MonitoringRound, chunk_size: int = 2000):  # noqa: A002
    """The round in the actor's scope: 汇总 (per department, with the total), then one sheet per
    department (per fund, with its total). Streamed into a temporary file; a constant number of queries."""
    round_ = round
    today = timezone.localdate()
    rows, indicators = summary_rows(actor, round_)
    wb = Workbook(write_only=True)
    summary = wb.create_sheet(SUMMARY_SHEET)  # first sheet; its rows are appended at the end
    summary.freeze_panes = "A4"
    schedule = rules.elapsed_share(round_.data_as_of, round_.fiscal_year_id)
    summary.append([styled_cell(summary, f"{round_.name}执行情况汇总", font=TITLE_FONT)])
    as_of = cn_date(round_.data_as_of)
    subtitle = f"{round_.organization.name} · 数据截至{as_of} · 时间进度 {schedule}% · 金额单位：万元"
    summary.append([plain_cell(summary, subtitle)])
    _header_row(summary, SUMMARY_HEADERS)
    used = {SUMMARY_SHEET}
    departments: list[tuple[str, _Totals]] = []
    region = _Totals()
    ws, current, totals = None, object(), None

    def close_department():
        ws.append(
            [
                styled_cell(ws, "合计", font=BOLD),
                styled_cell(ws, f"{totals.funds} 个项目", font=BOLD),
                _money(ws, totals.budget, font=BOLD),
                _money(ws, totals.executed, font=BOLD),
                _rate(ws, totals.rate, font=BOLD),
                styled_cell(ws, totals.warnings, font=BOLD),
                None,
            ]
        )

    for pk, code, name, dept_id, dept_name, budget, executed_amount, imported, status, measure in rows.iterator(
        chunk_size=chunk_size
    ):
        if dept_id != current:
            if ws is not None:
                close_department()
            current, totals = dept_id, _Totals()
            departments.append((dept_name, totals))
            ws = wb.create_sheet(_sheet_title(dept_name, used))
            ws.freeze_panes = "A2"
            _header_row(ws, DEPARTMENT_HEADERS)
        executed = executed_amount if executed_amount is not None else imported
        rate = rules.execution_rate(executed, budget)
        warnings = rules.report_warnings(
            rate=rate,
            as_of=round_.data_as_of,
            year=round_.fiscal_year_id,
            tolerance=round_.tolerance_points,
            indicators=indicators.pop(pk, []),
            submitted=status in SUBMITTED,
            due_on=round_.due_on,
            today=today,
        )
        if measure is None:
            key = ""
        else:
            key = MEASURE_LABELS.get(measure, "") or "已列入重点监控"
        ws.append(
            [
                plain_cell(ws, code),
                plain_cell(ws, name),
                _money(ws, budget),
                _money(ws, executed) if executed is not None else None,
                _rate(ws, rate),
                len(warnings),
                key or None,
            ]
        )
        totals.add(budget, executed, len(warnings))
        region.add(budget, executed, len(warnings))
    if ws is not None:
        close_department()
    for dept_name, t in departments:
        summary.append(
            [plain_cell(summary, dept_name), t.funds, _money(summary, t.budget), _money(summary, t.executed),
             _rate(summary, t.rate), t.warnings]
        )  # fmt: skip
    summary.append(
        [
            styled_cell(summary, "合计", font=BOLD),
            styled_cell(summary, region.funds, font=BOLD),
            _money(summary, region.budget, font=BOLD),
            _money(summary, region.executed, font=BOLD),
            _rate(summary, region.rate, font=BOLD),
            styled_cell(summary, region.warnings, font=BOLD),
        ]
    )
    file = _save(wb)
    audit.record(
        audit.Kind.EXPORT, actor=actor, obj=round_, comment=f"导出绩效运行监控汇总表（Excel，{region.funds} 个项目）"
    )
    name = f"绩效运行监控汇总表-{round_.organization.region.name}-{round_.fiscal_year_id}-{today:%Y%m%d}.xlsx"
    return file, safe_filename(name)
