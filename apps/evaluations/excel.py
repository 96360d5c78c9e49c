"""Excel (openpyxl) for 单位自评.

* ``self_form_export``: one self-evaluation as the official 项目支出绩效自评表 (title, header block,
  资金 with 执行率 and its points, 年度总体目标 against what was achieved, the indicator table with
  分值/得分 and the reasons for every shortfall, 总分 and 等级, finance's adjustment if any).
* ``fill_template`` / ``fill_import``: the actual values of the self-evaluations a user may fill
  (one row per evaluation on “预算执行”, one row per indicator on “指标完成情况”, hidden ids).
  The whole file is checked first with ``services.apply_entries`` — the very rules of the form —
  and written all or nothing; every bad cell is named (sheet, row, column, reason).
* ``summary`` / ``summary_export``: the year's self-evaluations in the user's scope by department
  and by grade, from one aggregate query.

Fonts, borders, ``wan()``, ``safe_filename`` and the upload checks come from ``apps.targets.excel``.
"""

from __future__ import annotations

import tempfile
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, CharField, Count, F, Q, Sum, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from apps.core import audit, permissions
from apps.core.excel import FormWriter, code_text, formula_refused, is_formula_cell, shown
from apps.core.templatetags.qd import cn_date
from apps.indicators.framework import Comparison, Level1, Level2
from apps.targets.excel import (
    BOLD,
    BORDER,
    CENTER,
    FONT,
    LEFT,
    MSG_BAD_CONTENT,
    MSG_NO_FILE,
    MSG_NOT_XLSX,
    RIGHT,
    SHADE,
    TITLE_FONT,
    WAN_FORMAT,
    XLSX_CONTENT_TYPE,
    CellError,
    ImportRefused,
    open_upload,
    safe_filename,
    wan,
)
from apps.targets.rows import parse_decimal

from . import scoring, services
from .models import Grade, SelfEvaluation, SelfEvaluationAdjustment, SelfEvaluationLine, SelfEvaluationRound

__all__ = [
    "MSG_BAD_CONTENT",
    "MSG_NO_FILE",
    "MSG_NOT_XLSX",
    "XLSX_CONTENT_TYPE",
    "CellError",
    "ImportRefused",
    "fill_import",
    "fill_template",
    "self_form_export",
    "summary",
    "summary_export",
]

ZERO = Decimal("0")
CENT = Decimal("0.01")
WAN = Decimal(10000)
LEVEL1_LABELS, LEVEL2_LABELS = dict(Level1.choices), dict(Level2.choices)
COMPARISON_LABELS = dict(Comparison.choices)
BAND_LABELS = dict(SelfEvaluationLine.Band.choices)
BAND_BY_LABEL = {label: code for code, label in SelfEvaluationLine.Band.choices}
GRADE_LABELS = dict(Grade.choices)
RATE_FORMAT = '0.00"%"'
POINTS_FORMAT = "0.00"


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _lines(text, width: float) -> int:
    """Lines ``text`` wraps to in a column ``width`` characters wide (Chinese counts double)."""
    usable = max(int(width) - 1, 1)
    return sum(max(1, -(-_display_width(p) // usable)) for p in (str(text or "").splitlines() or [""]))


def _num(value: Decimal | None) -> str:
    """A Decimal as plain text without trailing zeros or exponent: 1200.0000 → '1200'."""
    return "" if value is None else f"{value.normalize():f}"


def _points(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _save(wb) -> tempfile.TemporaryFile:
    file = tempfile.TemporaryFile()  # noqa: SIM115 — the response closes (and so deletes) it
    wb.save(file)
    file.seek(0)
    return file


# --- one self-evaluation as the 绩效自评表 -----------------------------------------------------

FORM_SHEET = "绩效自评表"
TABLE_HEADERS = [
    ("一级指标", 10),
    ("二级指标", 13),
    ("三级指标", 26),
    ("年度指标值", 14),
    ("实际完成值", 16),
    ("分值", 8),
    ("得分", 8),
    ("偏差原因分析及改进措施", 36),
]
WIDTHS = {get_column_letter(i): w for i, (_, w) in enumerate(TABLE_HEADERS, start=1)}
LAST = get_column_letter(len(TABLE_HEADERS))  # H


def target_text(indicator) -> str:
    """年度指标值 as written in the target: '≥1200人', '建立并有效运行'."""
    if indicator.comparison == Comparison.QUALITATIVE:
        return indicator.target_text
    return f"{COMPARISON_LABELS.get(indicator.comparison, '')}{_num(indicator.target_value)}{indicator.unit}"


def actual_text(line: SelfEvaluationLine) -> str:
    """实际完成值 as reported: '1180人', '基本建立（部分达成 70%）', '未填写'."""
    if line.indicator.comparison == Comparison.QUALITATIVE:
        if not line.band or line.band_percent is None:
            return line.actual_text or "未填写"
        rating = f"{BAND_LABELS.get(line.band, line.band)} {_num(line.band_percent)}%"
        return f"{line.actual_text}（{rating}）" if line.actual_text else rating
    return "未填写" if line.actual_value is None else f"{_num(line.actual_value)}{line.indicator.unit}"


def reason_text(reason: str, measure: str) -> str:
    parts = []
    if reason:
        parts.append(f"偏差原因：{reason}")
    if measure:
        parts.append(f"改进措施：{measure}")
    return "\n".join(parts)


class _Form(FormWriter):
    """Writes the 自评表 top-down (8 columns)."""

    def __init__(self, ws):
        super().__init__(ws, WIDTHS)

    def labelled(self, label: str, value, *, right: tuple[str, object] | None = None) -> None:
        """Label A:B, value C:H — or value C:D, label E:F, value G:H."""
        if right is None:
            self.fields(("A:B", label, f"C:{LAST}", value), lines=_lines(value, sum(WIDTHS[c] for c in "CDEFGH")))
        else:
            self.fields(
                ("A:B", label, "C:D", value),
                ("E:F", right[0], f"G:{LAST}", right[1]),
                lines=max(_lines(value, 38), _lines(right[1], 42)),
            )


def form_workbook(evaluation: SelfEvaluation, lines: list[SelfEvaluationLine], result, rules, adjustments) -> Workbook:
    """The 绩效自评表 of one evaluation (``fund__department``, ``organization``, ``target`` and
    ``round`` selected; ``lines`` with ``indicator``, in indicator order; ``result`` their score)."""
    year = evaluation.round.fiscal_year_id
    fund = evaluation.fund
    wb = Workbook()
    ws = wb.active
    ws.title = FORM_SHEET
    w = _Form(ws)
    w.header_block(f"项目支出绩效自评表（{year}年度）", evaluation.organization.name, unit_from="F")
    w.labelled("项目名称", fund.name)
    w.labelled("项目编码", fund.code, right=("自评状态", evaluation.get_status_display()))
    w.labelled("主管部门", fund.department.name, right=("实施单位", evaluation.organization.name))

    # 项目资金: 年初预算数 / 全年预算数（调整后）/ 全年执行数 / 分值 / 执行率 / 得分
    execution = next(item for item in result.lines if item.key == scoring.EXECUTION)
    r = w.row
    w.put(f"A{r}:B{r + 1}", "项目资金（万元）", font=BOLD, align=CENTER, fill=SHADE)
    money_headers = ["年初预算数", "全年预算数（调整后）", "全年执行数", "分值", "执行率", "得分"]
    for letter, label in zip("CDEFGH", money_headers, strict=True):
        w.put(f"{letter}{r}", label, font=BOLD, align=CENTER, fill=SHADE)
    w.height(r, 2)
    executed = evaluation.executed_amount
    rate = None
    if executed is not None and evaluation.budget_amount:
        rate = (executed / evaluation.budget_amount * 100).quantize(CENT, rounding=ROUND_HALF_UP)
    values = [
        (wan(fund.total_amount), WAN_FORMAT),
        (wan(evaluation.budget_amount), WAN_FORMAT),
        (wan(executed) if executed is not None else "未填写", WAN_FORMAT),
        (_points(execution.max_points), POINTS_FORMAT),
        (rate if rate is not None else "—", RATE_FORMAT),
        (_points(execution.points), POINTS_FORMAT),
    ]
    for letter, (value, number_format) in zip("CDEFGH", values, strict=True):
        number = not isinstance(value, str)
        w.put(f"{letter}{r + 1}", value, align=RIGHT if number else CENTER, number_format=number_format)
    w.height(r + 1, 1)
    w.row = r + 2
    if evaluation.execution_reason or evaluation.execution_measure:
        w.labelled("执行偏差说明", reason_text(evaluation.execution_reason, evaluation.execution_measure))

    # 年度总体目标: 预期目标 / 实际完成情况
    r = w.row
    w.put(f"A{r}:B{r + 1}", "年度总体目标", font=BOLD, align=CENTER, fill=SHADE)
    w.put(f"C{r}:E{r}", "预期目标", font=BOLD, align=CENTER, fill=SHADE)
    w.put(f"F{r}:{LAST}{r}", "实际完成情况", font=BOLD, align=CENTER, fill=SHADE)
    w.height(r, 1)
    goal, summary_text = evaluation.target.annual_goal, evaluation.summary
    w.put(f"C{r + 1}:E{r + 1}", goal)
    w.put(f"F{r + 1}:{LAST}{r + 1}", summary_text or "未填写")
    w.height(r + 1, max(_lines(goal, 46), _lines(summary_text, 50), 2))
    w.row = r + 2

    # 绩效指标
    header = w.table_header([label for label, _ in TABLE_HEADERS], lines=2)
    first = w.row
    by_key = {item.key: item for item in result.lines}
    for line in lines:
        ind, r, item = line.indicator, w.row, by_key[line.pk]
        why = reason_text(line.shortfall_reason, line.improvement_measure)
        if item.lost and not why:
            why = item.loss_reason
        row = [
            LEVEL1_LABELS.get(ind.level1, ind.level1),
            LEVEL2_LABELS.get(ind.level2, ind.level2),
            ind.name,
            target_text(ind),
            actual_text(line),
            _points(item.max_points),
            _points(item.points),
            why,
        ]
        for i, value in enumerate(row, start=1):
            number = isinstance(value, Decimal)
            w.put(
                f"{get_column_letter(i)}{r}",
                value,
                align=RIGHT if number else (LEFT if i in (3, 8) else CENTER),
                number_format=POINTS_FORMAT if number else None,
            )
        w.height(r, max(_lines(ind.name, WIDTHS["C"]), _lines(why, WIDTHS["H"]), _lines(row[4], WIDTHS["E"])))
        w.row += 1
    if not lines:
        w.put(f"A{w.row}:{LAST}{w.row}", "无绩效指标", align=CENTER)
        w.row += 1
    w.merge_runs([line.indicator.level1 for line in lines], "A", first)
    w.merge_runs([(line.indicator.level1, line.indicator.level2) for line in lines], "B", first)

    # 总分 and 等级
    r = w.row
    full = sum((c.weight for c in result.categories), ZERO)
    w.put(f"A{r}:E{r}", "总分", font=BOLD, align=CENTER, fill=SHADE)
    w.put(f"F{r}", _points(full), font=BOLD, align=RIGHT, number_format=POINTS_FORMAT)
    w.put(f"G{r}", result.total, font=BOLD, align=RIGHT, number_format=POINTS_FORMAT)
    w.put(f"{LAST}{r}", f"自评等级：{result.grade_label}", font=BOLD, align=CENTER)
    w.height(r, 1)
    w.row += 1
    notes = [f"{c.label}：{c.note}" for c in result.categories if c.note]
    if result.missing:
        notes.append("尚未填写实际完成情况（按 0 分计）：" + "、".join(result.missing))
    if notes:
        w.labelled("计分说明", "\n".join(notes))
    for adjustment in adjustments:
        previous = "—" if adjustment.previous_score is None else f"{_points(adjustment.previous_score)}"
        text = (
            f"调整后得分 {_points(adjustment.new_score)}（{GRADE_LABELS.get(adjustment.new_grade, '')}），"
            f"调整前得分 {previous}。调整理由：{adjustment.reason}"
            f"（{adjustment.adjusted_by.display_name}，{cn_date(adjustment.adjusted_at)}）"
        )
        w.labelled("财政调整", text)
    if evaluation.adjusted_score is not None:
        w.labelled(
            "最终得分",
            f"{_points(evaluation.adjusted_score)} 分，"
            f"等级：{GRADE_LABELS.get(evaluation.adjusted_grade, '')}（财政调整）",
        )
    last = w.row - 1
    w.put(
        f"A{w.row}:{LAST}{w.row}",
        f"填报人：　　　　　　联系电话：　　　　　　导出日期：{cn_date(timezone.localdate())}",
    )
    w.height(w.row, 1)
    w.finish(frame_from=3, last_row=last, header=header, print_to=w.row)
    return wb


def self_form_filename(evaluation: SelfEvaluation, day: date | None = None) -> str:
    day = day or timezone.localdate()
    return safe_filename(f"绩效自评表-{evaluation.fund.code}-{evaluation.round.fiscal_year_id}-{day:%Y%m%d}.xlsx")


def self_form_export(*, actor, evaluation: SelfEvaluation):
    """The 绩效自评表 as a temporary file and its name; the caller has checked visibility (audited)."""
    lines = services.locked_lines(evaluation)
    rules = services.rules_for(evaluation.round.organization.region_id, evaluation.round.fiscal_year_id)
    result = services.compute(evaluation, lines, rules)
    adjustments = list(
        SelfEvaluationAdjustment.objects.filter(evaluation=evaluation).select_related("adjusted_by").order_by("pk")
    )
    file = _save(form_workbook(evaluation, lines, result, rules, adjustments))
    audit.record(audit.Kind.EXPORT, actor=actor, obj=evaluation, comment="导出项目支出绩效自评表（Excel）")
    return file, self_form_filename(evaluation)


# --- import of actual values: the template ----------------------------------------------------

EXECUTION_SHEET = "预算执行"
LINES_SHEET = "指标完成情况"
# (key, header, width); the first (hidden) columns are the ids the import finds its rows by.
EXECUTION_COLUMNS = [
    ("evaluation", "自评编号", 10),
    ("code", "项目编码", 20),
    ("fund", "项目名称", 32),
    ("organization", "实施单位", 22),
    ("budget", "全年预算数（万元）", 14),
    ("executed", "全年执行数（万元）", 14),
    ("execution_reason", "执行偏差原因", 30),
    ("execution_measure", "执行改进措施", 30),
    ("summary", "年度总体目标实际完成情况", 40),
]
LINE_COLUMNS = [
    ("evaluation", "自评编号", 10),
    ("line", "指标编号", 10),
    ("code", "项目编码", 20),
    ("fund", "项目名称", 26),
    ("level1", "一级指标", 10),
    ("level2", "二级指标", 14),
    ("name", "三级指标", 28),
    ("target", "年度指标值", 14),
    ("unit", "计量单位", 9),
    ("actual_value", "实际完成值", 12),
    ("band", "完成程度", 10),
    ("band_percent", "得分比例（%）", 10),
    ("actual_text", "实际完成情况（定性）", 24),
    ("shortfall_reason", "偏差原因", 28),
    ("improvement_measure", "改进措施", 28),
]
EXECUTION_INPUTS = {"executed", "execution_reason", "execution_measure", "summary"}
LINE_INPUTS = {"actual_value", "band", "band_percent", "actual_text", "shortfall_reason", "improvement_measure"}
QUANTITATIVE_ONLY, QUALITATIVE_ONLY = {"actual_value"}, {"band", "band_percent", "actual_text"}
READ = {"evaluation", "line", "code", *EXECUTION_INPUTS, *LINE_INPUTS}  # the columns the import reads
HEADER_ROW = 2  # row 1 is the note
AUDITED = [*services.EVALUATION_FIELDS, "score", "grade"]
MAX_ROWS = 20_000
GREY = SHADE
INPUT_FILL = None


def _letters(columns) -> dict[str, str]:
    return {key: get_column_letter(i) for i, (key, _, _) in enumerate(columns, start=1)}


EXECUTION_LETTERS, LINE_LETTERS = _letters(EXECUTION_COLUMNS), _letters(LINE_COLUMNS)
EXECUTION_LABELS = {key: label for key, label, _ in EXECUTION_COLUMNS}
LINE_LABELS = {key: label for key, label, _ in LINE_COLUMNS}


def fillable(user, year: int):
    """The self-evaluations ``user`` may fill now (draft or returned, open round) in ``year``."""
    return (
        SelfEvaluation.objects.restrict(user, "selfeval.fill")
        .filter(
            round__fiscal_year_id=year,
            round__status=SelfEvaluationRound.Status.OPEN,
            status__in=services.EDITABLE,
        )
        .order_by("fund__code", "pk")
    )


def _text_cell(cell, value):
    cell.value = None if value in ("", None) else value
    if isinstance(value, str) and cell.data_type == "f":
        cell.data_type = "s"  # text typed by people is never a formula
    return cell


def _sheet(wb, title: str, columns, note: str):
    ws = wb.create_sheet(title)
    ws.append([note])
    ws["A1"].font, ws["A1"].alignment = FONT, LEFT
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
    ws.row_dimensions[1].height = 48
    for i, (_, label, width) in enumerate(columns, start=1):
        cell = ws.cell(HEADER_ROW, i, label)
        cell.font, cell.fill, cell.alignment, cell.border = BOLD, SHADE, CENTER, BORDER
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = f"C{HEADER_ROW + 1}"  # a reference, not a cell (no empty row 3)
    return ws


def _protect(ws, inputs: set[str], letters: dict[str, str], last_row: int) -> None:
    """Lock the sheet except the input columns (no password: a guard against slips, not a control;
    the import checks every cell anyway)."""
    for key in inputs:
        letter = letters[key]
        for row in range(HEADER_ROW + 1, last_row + 1):
            ws[f"{letter}{row}"].protection = Protection(locked=False)
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.autoFilter = False
    ws.protection.sort = False


def template_workbook(evaluations: list[SelfEvaluation], lines_of: dict[int, list]) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    ws = _sheet(
        wb,
        EXECUTION_SHEET,
        EXECUTION_COLUMNS,
        "说明：每行一个项目。请填写全年执行数（万元）和年度总体目标的实际完成情况；预算未全部执行时填写原因和改进措施。"
        "灰色列不要修改，隐藏的“自评编号”列不要删除。不需要导入的项目可以整行删除。",
    )
    for evaluation in evaluations:
        fund = evaluation.fund
        row = [
            evaluation.pk,
            fund.code,
            fund.name,
            evaluation.organization.name,
            wan(evaluation.budget_amount),
            wan(evaluation.executed_amount) if evaluation.executed_amount is not None else None,
            evaluation.execution_reason,
            evaluation.execution_measure,
            evaluation.summary,
        ]
        r = ws.max_row + 1
        for i, (value, (key, _, _)) in enumerate(zip(row, EXECUTION_COLUMNS, strict=True), start=1):
            cell = _text_cell(ws.cell(r, i), value)
            cell.font, cell.border = FONT, BORDER
            cell.alignment = LEFT if isinstance(value, str) else RIGHT
            if key in ("budget", "executed"):
                cell.number_format = WAN_FORMAT
            if key not in EXECUTION_INPUTS:
                cell.fill = GREY
        ws.cell(r, 2).number_format = "@"
    ws.column_dimensions["A"].hidden = True
    _protect(ws, EXECUTION_INPUTS, EXECUTION_LETTERS, ws.max_row)

    ws = _sheet(
        wb,
        LINES_SHEET,
        LINE_COLUMNS,
        "说明：每行一项三级指标。定量指标填写“实际完成值”（不小于 0 的数字，单位与计量单位一致）；"
        "定性指标选择“完成程度”（达成/部分达成/未达成）并填写区间内的“得分比例（%）”。未完成目标的，请填写偏差原因和改进措施。"
        "灰色单元格不要填写，隐藏的“自评编号”“指标编号”列不要删除或修改。",
    )
    for evaluation in evaluations:
        for line in lines_of.get(evaluation.pk, []):
            ind = line.indicator
            qualitative = ind.comparison == Comparison.QUALITATIVE
            values = {
                "evaluation": evaluation.pk,
                "line": line.pk,
                "code": evaluation.fund.code,
                "fund": evaluation.fund.name,
                "level1": LEVEL1_LABELS.get(ind.level1, ind.level1),
                "level2": LEVEL2_LABELS.get(ind.level2, ind.level2),
                "name": ind.name,
                "target": target_text(ind),
                "unit": ind.unit,
                "actual_value": None if qualitative or line.actual_value is None else line.actual_value.normalize(),
                "band": BAND_LABELS.get(line.band, "") if qualitative else "",
                "band_percent": line.band_percent.normalize()
                if qualitative and line.band_percent is not None
                else None,
                "actual_text": line.actual_text if qualitative else "",
                "shortfall_reason": line.shortfall_reason,
                "improvement_measure": line.improvement_measure,
            }
            r = ws.max_row + 1
            for i, (key, _, _) in enumerate(LINE_COLUMNS, start=1):
                value = values[key]
                cell = _text_cell(ws.cell(r, i), value)
                cell.font, cell.border = FONT, BORDER
                cell.alignment = RIGHT if isinstance(value, Decimal | int) else LEFT
                blocked = (qualitative and key in QUANTITATIVE_ONLY) or (not qualitative and key in QUALITATIVE_ONLY)
                if key not in LINE_INPUTS or blocked:
                    cell.fill = GREY
            ws.cell(r, 3).number_format = "@"
    last = ws.max_row
    bands = DataValidation(type="list", formula1='"' + ",".join(BAND_BY_LABEL) + '"', allow_blank=True)
    bands.error, bands.errorTitle, bands.showErrorMessage = "请从下拉列表中选择完成程度。", "输入无效", True
    bands.add(f"{LINE_LETTERS['band']}{HEADER_ROW + 1}:{LINE_LETTERS['band']}{max(last, HEADER_ROW + 1)}")
    ws.add_data_validation(bands)
    ws.column_dimensions["A"].hidden = True
    ws.column_dimensions["B"].hidden = True
    _protect(ws, LINE_INPUTS, LINE_LETTERS, last)
    return wb


def fill_template(*, actor, year: int):
    """The file to fill: every self-evaluation the actor may fill now, with its current values."""
    if not permissions.has_action(actor, "selfeval.fill"):
        raise PermissionDenied("您的角色无权填报单位自评。")
    evaluations = list(fillable(actor, year).select_related("fund", "organization"))
    lines_of: dict[int, list] = defaultdict(list)
    for line in (
        SelfEvaluationLine.objects.filter(evaluation__in=[e.pk for e in evaluations])
        .select_related("indicator")
        .order_by("evaluation_id", "indicator__sort_order", "indicator_id")
    ):
        lines_of[line.evaluation_id].append(line)
    file = _save(template_workbook(evaluations, lines_of))
    audit.record(
        audit.Kind.EXPORT,
        actor=actor,
        comment=f"下载单位自评导入模板（{year}年度，{len(evaluations)} 个项目）",
    )
    org = actor.organization.name if actor.organization else ""
    return file, safe_filename(f"单位自评导入模板-{org}-{year}-{timezone.localdate():%Y%m%d}.xlsx")


# --- import of actual values: reading and checking ---------------------------------------------

MSG_NO_SHEETS = (
    f"找不到工作表“{EXECUTION_SHEET}”和“{LINES_SHEET}”，请使用本系统下载的单位自评导入模板填写（不要改工作表名）。"
)
MSG_EMPTY = "文件中没有任何数据行，未导入。"
MSG_BAD_ID = "隐藏的编号无效，请勿修改或删除隐藏的编号列（请重新下载模板）。"


@dataclass
class SheetRow:
    sheet: str
    row: int  # the worksheet row
    values: dict[str, object]


@dataclass
class Parsed:
    execution: list[SheetRow] = field(default_factory=list)
    lines: list[SheetRow] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _header(value) -> str:
    return "".join(str(value or "").split()).replace("(", "（").replace(")", "）")


def _error(parsed: Parsed, sheet: str, row: int, letter: str, label: str, message: str) -> None:
    parsed.errors.append(
        CellError(row=row - HEADER_ROW, column=label, message=message, sheet=sheet, sheet_row=row, letter=letter,
                  label=label)
    )  # fmt: skip


def _read_sheet(ws, columns, parsed: Parsed, out: list[SheetRow]) -> None:
    headers = [_header(ws.cell(HEADER_ROW, i).value) for i in range(1, len(columns) + 1)]
    expected = [_header(label) for _, label, _ in columns]
    if headers != expected:
        wrong = next(i for i, (a, b) in enumerate(zip(headers, expected, strict=True)) if a != b)
        letter = get_column_letter(wrong + 1)
        parsed.problems.append(
            f"工作表“{ws.title}”第 {HEADER_ROW} 行的表头与模板不一致：{letter} 列应为“{columns[wrong][1]}”，"
            f"实际为“{headers[wrong] or '（空）'}”。请使用本系统下载的模板，不要增删或移动列。"
        )
        return
    if ws.max_row - HEADER_ROW > MAX_ROWS:
        parsed.problems.append(f"工作表“{ws.title}”超过 {MAX_ROWS} 行，请分批导入。")
        return
    for cells in ws.iter_rows(min_row=HEADER_ROW + 1, max_row=ws.max_row, max_col=len(columns)):
        if all(c.value is None or (isinstance(c.value, str) and not c.value.strip()) for c in cells):
            continue
        r = cells[0].row
        values: dict[str, object] = {}
        ok = True
        for (key, label, _), cell in zip(columns, cells, strict=True):
            if key not in READ:
                continue  # shown for reference only (a target "=100%" is text, not a formula)
            if is_formula_cell(cell):
                _error(parsed, ws.title, r, cell.column_letter, label,
                       formula_refused(cell))  # fmt: skip
                ok = False
                continue
            values[key] = cell.value
        for key in ("evaluation", "line"):
            if key not in values:
                continue
            raw = values[key]
            number = None
            if isinstance(raw, int) and not isinstance(raw, bool):
                number = raw
            elif isinstance(raw, float) and raw.is_integer():
                number = int(raw)
            elif isinstance(raw, str) and raw.strip().isdigit():
                number = int(raw.strip())
            if number is None or number <= 0:
                letter = get_column_letter(1 if key == "evaluation" else 2)
                _error(parsed, ws.title, r, letter, {k: lab for k, lab, _ in columns}[key], MSG_BAD_ID)
                ok = False
            values[key] = number
        if ok:
            out.append(SheetRow(ws.title, r, values))


def read_fill_workbook(wb) -> Parsed:
    """Both sheets' rows (ids as ints) and every problem the file alone reveals."""
    parsed = Parsed()
    names = set(wb.sheetnames)
    if EXECUTION_SHEET not in names and LINES_SHEET not in names:
        raise ImportRefused([MSG_NO_SHEETS])
    for title, columns, out in (
        (EXECUTION_SHEET, EXECUTION_COLUMNS, parsed.execution),
        (LINES_SHEET, LINE_COLUMNS, parsed.lines),
    ):
        if title not in names:
            parsed.problems.append(f"找不到工作表“{title}”，请使用本系统下载的单位自评导入模板填写（不要改工作表名）。")
            continue
        _read_sheet(wb[title], columns, parsed, out)
    if parsed.problems:
        raise ImportRefused(parsed.problems, parsed.errors)
    if not parsed.execution and not parsed.lines and not parsed.errors:
        raise ImportRefused([MSG_EMPTY])
    return parsed


def _wan_to_yuan(raw) -> tuple[str | None, str]:
    """A 万元 cell → the amount in 元 as text for ``apply_entries`` (or None), and the reason it is bad."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, ""
    try:
        number = parse_decimal(raw if not isinstance(raw, float) else repr(raw))
    except (InvalidOperation, ValueError):
        return None, f"全年执行数“{shown(raw)}”不是数字。"
    if number < 0:
        return None, "全年执行数不能为负数。"
    if number >= Decimal("1e12"):
        return None, "全年执行数超出允许的范围。"
    return f"{(number * WAN).quantize(CENT, rounding=ROUND_HALF_UP):f}", ""


def _typed(raw):
    """A number cell as ``apply_entries`` expects it typed (floats via repr: 95.5, not 95.499999…)."""
    if isinstance(raw, float):
        return repr(raw)
    if isinstance(raw, bool):
        return str(raw)
    if hasattr(raw, "isoformat"):
        return raw.isoformat()  # a date in a number column: reported as not a number
    return raw


@dataclass
class _Work:
    evaluation: SelfEvaluation
    lines: list[SelfEvaluationLine]
    execution_row: SheetRow | None = None
    line_rows: dict[int, SheetRow] = field(default_factory=dict)


def _check(actor, parsed: Parsed):
    """Load the evaluations named in the file (locked) and check every row with the form's rules.
    Returns the work and the result per evaluation and their audited fields before the import;
    errors are collected on ``parsed``."""
    ids = {row.values["evaluation"] for row in [*parsed.execution, *parsed.lines]}
    evaluations = {
        e.pk: e
        for e in SelfEvaluation.objects.restrict(actor, "selfeval.fill")
        .filter(pk__in=ids)
        .select_related("round__organization", "fund")
        .select_for_update(of=("self",))
        .order_by("pk")
    }
    befores = {pk: audit.snapshot(e, AUDITED) for pk, e in evaluations.items()}
    lines_of: dict[int, list[SelfEvaluationLine]] = defaultdict(list)
    for line in (
        SelfEvaluationLine.objects.filter(evaluation_id__in=list(evaluations))
        .select_related("indicator")
        .order_by("evaluation_id", "indicator__sort_order", "indicator_id")
    ):
        lines_of[line.evaluation_id].append(line)
    work: dict[int, _Work] = {}
    refused: set[int] = set()

    def target(row: SheetRow, letters, labels) -> _Work | None:
        pk = row.values["evaluation"]
        evaluation = evaluations.get(pk)
        if evaluation is None:
            _error(parsed, row.sheet, row.row, "A", labels["evaluation"],
                   f"自评编号 {pk} 不存在或不在您的填报范围内。{MSG_BAD_ID}")  # fmt: skip
            return None
        code = code_text(row.values.get("code"))
        if code and code != evaluation.fund.code:
            _error(parsed, row.sheet, row.row, letters["code"], labels["code"],
                   f"项目编码“{code}”与隐藏的自评编号不一致（应为“{evaluation.fund.code}”）。{MSG_BAD_ID}")  # fmt: skip
            return None
        if evaluation.status not in services.EDITABLE or evaluation.round.status != SelfEvaluationRound.Status.OPEN:
            if pk not in refused:
                refused.add(pk)
                why = (
                    f"当前状态为“{evaluation.get_status_display()}”"
                    if evaluation.status not in services.EDITABLE
                    else "所属自评批次已结束"
                )
                parsed.problems.append(
                    f"“{evaluation.fund.name}”（{evaluation.fund.code}）的单位自评{why}，不能导入修改；"
                    "请从文件中删除该项目的行，或先请审核人退回。"
                )
            return None
        return work.setdefault(pk, _Work(evaluation, lines_of[pk]))

    for row in parsed.execution:
        item = target(row, EXECUTION_LETTERS, EXECUTION_LABELS)
        if item is None:
            continue
        if item.execution_row is not None:
            _error(parsed, row.sheet, row.row, "A", EXECUTION_LABELS["evaluation"],
                   f"该项目在第 {item.execution_row.row} 行已出现，每个项目只能有一行。")  # fmt: skip
            continue
        item.execution_row = row
    for row in parsed.lines:
        item = target(row, LINE_LETTERS, LINE_LABELS)
        if item is None:
            continue
        line_pk = row.values["line"]
        line = next((x for x in item.lines if x.pk == line_pk), None)
        if line is None:
            _error(parsed, row.sheet, row.row, "B", LINE_LABELS["line"],
                   f"指标编号 {line_pk} 不属于该项目的自评表。{MSG_BAD_ID}")  # fmt: skip
            continue
        if line_pk in item.line_rows:
            _error(parsed, row.sheet, row.row, "B", LINE_LABELS["line"],
                   f"该指标在第 {item.line_rows[line_pk].row} 行已出现，每项指标只能有一行。")  # fmt: skip
            continue
        item.line_rows[line_pk] = row
    results = {}
    rules_cache: dict[tuple[int, int], scoring.Rules] = {}
    for pk, item in work.items():
        results[pk] = _check_evaluation(item, parsed, rules_cache)
    return work, results, befores


def _check_evaluation(item: _Work, parsed: Parsed, rules_cache):
    evaluation = item.evaluation
    key = (evaluation.round.organization.region_id, evaluation.round.fiscal_year_id)
    if key not in rules_cache:
        rules_cache[key] = services.rules_for(*key)
    rules = rules_cache[key]
    executed = evaluation.executed_amount
    row = item.execution_row
    if row is not None:
        executed, reason = _wan_to_yuan(row.values.get("executed"))
        if reason:
            _error(parsed, row.sheet, row.row, EXECUTION_LETTERS["executed"], EXECUTION_LABELS["executed"], reason)
            executed = evaluation.executed_amount
    entries: dict[int, services.Entry] = {}
    by_pk = {line.pk: line for line in item.lines}
    for line_pk, line_row in item.line_rows.items():
        values = line_row.values
        qualitative = by_pk[line_pk].indicator.comparison == Comparison.QUALITATIVE
        misplaced = QUANTITATIVE_ONLY if qualitative else QUALITATIVE_ONLY
        for name in sorted(misplaced):
            if code_text(values.get(name)):
                kind = "定性指标，请填写完成程度和得分比例" if qualitative else "定量指标，请在“实际完成值”列填写"
                _error(parsed, line_row.sheet, line_row.row, LINE_LETTERS[name], LINE_LABELS[name],
                       f"该指标为{kind}，本列不要填写。")  # fmt: skip
        band_text = code_text(values.get("band"))
        band = BAND_BY_LABEL.get(band_text, band_text if band_text in BAND_LABELS else None) if band_text else ""
        if qualitative and band is None:
            _error(parsed, line_row.sheet, line_row.row, LINE_LETTERS["band"], LINE_LABELS["band"],
                   f"完成程度“{band_text}”无效，只能填写“达成”“部分达成”或“未达成”。")  # fmt: skip
            band = ""
        entries[line_pk] = services.Entry(
            actual_value=_typed(values.get("actual_value")) if not qualitative else None,
            actual_text=code_text(values.get("actual_text")) if qualitative else "",
            band=band or "",
            band_percent=_typed(values.get("band_percent")) if qualitative else None,
            shortfall_reason=code_text(values.get("shortfall_reason")),
            improvement_measure=code_text(values.get("improvement_measure")),
        )
    try:
        result, errors = services.apply_entries(evaluation, item.lines, executed, entries, rules)
    except (scoring.ScoringError, ValidationError) as exc:
        message = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        parsed.problems.append(f"“{evaluation.fund.name}”（{evaluation.fund.code}）无法计分：{message}")
        return None
    for field_key, messages in errors.items():
        if field_key == "executed_amount":
            target_row = item.execution_row
            letter, label = EXECUTION_LETTERS["executed"], EXECUTION_LABELS["executed"]
        else:
            _, line_pk, name = field_key.split("-", 2)
            target_row = item.line_rows.get(int(line_pk))
            letter, label = LINE_LETTERS.get(name, ""), LINE_LABELS.get(name, "")
        for message in messages:
            if target_row is None:
                parsed.problems.append(f"“{evaluation.fund.name}”：{message}")
            else:
                _error(parsed, target_row.sheet, target_row.row, letter, label, message)
    if row is not None:
        evaluation.execution_reason = code_text(row.values.get("execution_reason"))
        evaluation.execution_measure = code_text(row.values.get("execution_measure"))
        evaluation.summary = code_text(row.values.get("summary"))
    return result


@dataclass
class ImportSummary:
    evaluations: int
    lines: int


def fill_import(*, actor, upload) -> ImportSummary:
    """Store the actual values of every self-evaluation in the file, all or nothing.

    ``ImportRefused`` lists the whole-file problems (wrong file, wrong headers, evaluations that may
    not be edited, named) and every bad cell; then nothing was written."""
    if not permissions.has_action(actor, "selfeval.fill"):
        raise PermissionDenied("您的角色无权填报单位自评。")
    parsed = read_fill_workbook(open_upload(upload))
    with transaction.atomic():
        work, results, befores = _check(actor, parsed)
        if parsed.problems or parsed.errors:
            parsed.errors.sort(key=lambda e: (e.sheet != EXECUTION_SHEET, e.sheet_row or 0, e.letter))
            raise ImportRefused(parsed.problems, parsed.errors)
        if not work:
            raise ImportRefused([MSG_EMPTY])
        now = timezone.now()
        evaluations, lines = [], []
        for pk, item in work.items():
            evaluation = item.evaluation
            services.store_result(evaluation, item.lines, results[pk])
            evaluation.updated_by, evaluation.updated_at = actor, now
            evaluations.append(evaluation)
            lines.extend(item.lines)
        SelfEvaluation.objects.bulk_update(
            evaluations, [*services.EVALUATION_FIELDS, "score", "grade", "updated_by", "updated_at"], batch_size=500
        )
        SelfEvaluationLine.objects.bulk_update(lines, services.LINE_FIELDS, batch_size=500)
        for evaluation in evaluations:
            after = audit.snapshot(evaluation, AUDITED)
            audit.record(
                audit.Kind.UPDATE,
                actor=actor,
                obj=evaluation,
                changes=audit.diff(befores[evaluation.pk], after),
                comment=f"Excel 导入单位自评（{len(work[evaluation.pk].line_rows)} 项指标）",
            )
    return ImportSummary(len(evaluations), sum(len(item.line_rows) for item in work.values()))


# --- summaries by department and by grade ------------------------------------------------------

SS = SelfEvaluation.Status
SCOPES = {
    "all": "全部自评",
    "submitted": "已报送财政（含财政已审核）",
    "confirmed": "财政已审核",
}
GRADE_ORDER = [scoring.EXCELLENT, scoring.GOOD, scoring.FAIR, scoring.POOR]
UNSCORED = "未评分"


@dataclass
class Bucket:
    """Counts and sums of a group of self-evaluations (a department, a grade, or all)."""

    key: object
    label: str
    evaluations: int = 0
    scored: int = 0
    score_sum: Decimal = ZERO
    budget: Decimal = ZERO
    executed: Decimal = ZERO
    grades: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GRADE_ORDER, 0))

    def add(self, grade: str, n: int, scored: int, score_sum, budget, executed) -> None:
        self.evaluations += n
        self.scored += scored
        self.score_sum += score_sum or ZERO
        self.budget += budget or ZERO
        self.executed += executed or ZERO
        if grade in self.grades:
            self.grades[grade] += n

    @property
    def unscored(self) -> int:
        return self.evaluations - self.scored

    @property
    def average(self) -> Decimal | None:
        return (self.score_sum / self.scored).quantize(CENT, rounding=ROUND_HALF_UP) if self.scored else None

    @property
    def rate(self) -> Decimal | None:
        return (self.executed / self.budget * 100).quantize(CENT, rounding=ROUND_HALF_UP) if self.budget else None

    @property
    def grade_counts(self) -> list[int]:
        return [self.grades[g] for g in GRADE_ORDER]


@dataclass
class Summary:
    year: int
    scope: str
    departments: list[Bucket]
    grades: list[Bucket]
    total: Bucket

    @property
    def scope_label(self) -> str:
        return SCOPES[self.scope]

    def share(self, bucket: Bucket) -> Decimal | None:
        """A grade's share of the scored evaluations (%)."""
        if not self.total.scored or bucket.key == "":
            return None
        return (Decimal(bucket.evaluations) / self.total.scored * 100).quantize(CENT, rounding=ROUND_HALF_UP)


def summary(user, year: int, scope: str = "all") -> Summary:
    """The year's self-evaluations the user may see, by department and by grade (final grade:
    finance's adjustment when there is one). One aggregate query, whatever the number of rows."""
    scope = scope if scope in SCOPES else "all"
    evaluations = SelfEvaluation.objects.restrict(user, "selfeval.view").filter(round__fiscal_year_id=year)
    if scope == "submitted":
        evaluations = evaluations.filter(status__in=[SS.SUBMITTED, SS.CONFIRMED])
    elif scope == "confirmed":
        evaluations = evaluations.filter(status=SS.CONFIRMED)
    final_grade = Case(
        When(~Q(adjusted_grade=""), then=F("adjusted_grade")), default=F("grade"), output_field=CharField()
    )
    rows = (
        evaluations.annotate(final_grade=final_grade, final_score=Coalesce("adjusted_score", "score"))
        .values("fund__department_id", "fund__department__name", "fund__department__path", "final_grade")
        .annotate(
            n=Count("pk"),
            scored=Count("final_score"),
            score_sum=Sum("final_score"),
            budget=Sum("budget_amount"),
            executed=Sum("executed_amount"),
        )
        .order_by("fund__department__path", "fund__department_id", "final_grade")
    )
    departments: dict[int, Bucket] = {}
    grades = {g: Bucket(g, GRADE_LABELS[g]) for g in GRADE_ORDER}
    grades[""] = Bucket("", UNSCORED)
    total = Bucket("total", "合计")
    for row in rows:
        values = (row["final_grade"], row["n"], row["scored"], row["score_sum"], row["budget"], row["executed"])
        dept = departments.setdefault(
            row["fund__department_id"], Bucket(row["fund__department_id"], row["fund__department__name"])
        )
        dept.add(*values)
        grades.get(row["final_grade"] or "", grades[""]).add(*values)
        total.add(*values)
    return Summary(year, scope, list(departments.values()), list(grades.values()), total)


DEPARTMENT_HEADERS = [
    ("主管部门", 30), ("自评项目数", 10), ("已评分", 8), ("平均分", 8), ("优", 6), ("良", 6), ("中", 6), ("差", 6),
    ("未评分", 8), ("全年预算数（万元）", 16), ("全年执行数（万元）", 16), ("执行率（%）", 10),
]  # fmt: skip
GRADE_HEADERS = [
    ("等级", 10), ("项目数", 10), ("占已评分（%）", 12), ("平均分", 8), ("全年预算数（万元）", 16),
    ("全年执行数（万元）", 16), ("执行率（%）", 10),
]  # fmt: skip


def _table(ws, title: str, subtitle: str, headers, rows, total=None) -> None:
    for i, (_, width) in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    last = get_column_letter(len(headers))
    ws.merge_cells(f"A1:{last}1")
    ws["A1"].value, ws["A1"].font, ws["A1"].alignment = title, TITLE_FONT, CENTER
    ws.row_dimensions[1].height = 30
    ws.merge_cells(f"A2:{last}2")
    _text_cell(ws["A2"], subtitle).font = FONT
    for i, (label, _) in enumerate(headers, start=1):
        cell = ws.cell(3, i, label)
        cell.font, cell.fill, cell.alignment, cell.border = BOLD, SHADE, CENTER, BORDER
    ws.freeze_panes = "B4"
    for r, values in enumerate([*rows, *([total] if total else [])], start=4):
        bold = total is not None and values is total
        for i, value in enumerate(values, start=1):
            cell = _text_cell(ws.cell(r, i), value)
            cell.font, cell.border = (BOLD if bold else FONT), BORDER
            cell.alignment = LEFT if i == 1 else RIGHT
            if isinstance(value, Decimal):
                cell.number_format = WAN_FORMAT if "万元" in headers[i - 1][0] else POINTS_FORMAT


def _department_row(b: Bucket) -> list:
    return [b.label, b.evaluations, b.scored, b.average, *b.grade_counts, b.unscored, wan(b.budget), wan(b.executed),
            b.rate]  # fmt: skip


def summary_workbook(data: Summary, who: str) -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = "按部门汇总"
    subtitle = (
        f"{who} · 统计范围：{data.scope_label} · 得分与等级含财政调整 · 金额单位：万元 · "
        f"{cn_date(timezone.localdate())}"
    )
    _table(
        ws,
        f"{data.year}年度单位自评结果汇总表（按部门）",
        subtitle,
        DEPARTMENT_HEADERS,
        [_department_row(b) for b in data.departments],
        _department_row(data.total),
    )
    ws = wb.create_sheet("按等级汇总")
    rows = [
        [b.label, b.evaluations, data.share(b), b.average, wan(b.budget), wan(b.executed), b.rate] for b in data.grades
    ]
    t = data.total
    _table(
        ws,
        f"{data.year}年度单位自评结果汇总表（按等级）",
        subtitle,
        GRADE_HEADERS,
        rows,
        [t.label, t.evaluations, None, t.average, wan(t.budget), wan(t.executed), t.rate],
    )
    return wb


def summary_export(*, actor, year: int, scope: str = "all"):
    """The summary as a temporary file and its name (audited)."""
    data = summary(actor, year, scope)
    who = actor.organization.name if actor.organization else ""
    file = _save(summary_workbook(data, who))
    audit.record(
        audit.Kind.EXPORT,
        actor=actor,
        comment=f"导出单位自评结果汇总表（{year}年度，{data.scope_label}，{data.total.evaluations} 个项目）",
    )
    return file, safe_filename(f"单位自评结果汇总表-{year}-{timezone.localdate():%Y%m%d}.xlsx")
