"""The NPC workbook (报人大绩效报表): a cover sheet, then one formatted sheet per chosen table.

Written with a ``write_only`` openpyxl workbook so memory stays flat whatever the row count. The
pinned openpyxl (3.1) streams rows but keeps the sheet's layout objects, and writes them after the
rows, so a write-only sheet still gets everything the form needs:

* merged ranges: ``ws.merged_cells.add("A1:Q1")`` (the write-only sheet has no ``merge_cells()``
  method, but its ``merged_cells`` range list is written on save like a normal sheet's);
* ``freeze_panes``, ``print_title_rows``, ``page_setup`` (A4 landscape, fit to one page wide),
  ``sheet_properties.pageSetUpPr.fitToPage``, ``print_options``, ``page_margins``, footer;
* column widths through ``column_dimensions`` — set before the first row is written.

Every data cell is a ``Cell`` built with a shared, pre-computed style (``style_array``): the cost of
styling is one array copy per cell rather than a font/border lookup per attribute.

Amounts are stored in 元 and written in 万元 rounded to two decimals (``#,##0.00``); totals are the
sums of the 元 amounts, converted once (so a total equals the database sum, not a sum of roundings).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.header_footer import HeaderFooter

from apps.core.excel import BOLD, BORDER, CENTER, SHADE, TITLE_FONT, WAN_FORMAT
from apps.evaluations.models import Grade
from apps.indicators.framework import Comparison, Level1, Level2
from apps.targets.excel import safe_filename, wan

from . import selectors_npc as sel
from .selectors_npc import ReportSet

FONT10 = Font(name="宋体", size=10)
BOLD10 = Font(name="宋体", size=10, bold=True)
SUBTITLE_FONT = Font(name="宋体", size=11)
TOP_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
MIDDLE = Alignment(horizontal="center", vertical="center", wrap_text=True)
NUMBER = Alignment(horizontal="right", vertical="center")
SCORE_FORMAT = "0.00"
INT_FORMAT = "#,##0"
PERCENT_FORMAT = '0.00"%"'

SHEET_NAMES = {
    ReportSet.TARGETS: "项目绩效目标表",
    ReportSet.KEY_EVALUATIONS: "财政重点评价结果表",
    ReportSet.DEPARTMENTS: "部门整体绩效目标和评价表",
}
COVER_SHEET = "封面"
SUMMARY_DEPARTMENT_SHEET = "汇总表（按部门）"
SUMMARY_GRADE_SHEET = "汇总表（按评价等级）"

SOURCE_NOTES = {
    ReportSet.TARGETS: "项目绩效目标表：本年度已列入预算（预算申报状态为“已安排”）的专项资金，"
    "取其现行有效的绩效目标（最新的“已批复”版本，调整中的新版本未批复前不替换），每个三级指标一行。",
    ReportSet.KEY_EVALUATIONS: "财政重点评价结果表：财政部门重点评价计划中评价年度为本年度（即评价本年度预算项目）"
    "且状态为“已完成”的项目评价。",
    ReportSet.DEPARTMENTS: "部门整体绩效目标和评价表：本年度已批复的部门整体绩效目标（年度主要任务及金额），"
    "以及同一年度的部门整体评价（已完成的列示得分和等级）。",
    ReportSet.SUMMARY: "汇总表：按部门、按评价等级汇总前两张表的项目数、指标数和金额，并列合计。",
}

LEVEL1, LEVEL2, COMPARISON = dict(Level1.choices), dict(Level2.choices), dict(Comparison.choices)
GRADE_LABELS = dict(Grade.choices)
FORMULA_START = ("=", "+", "-", "@")


@dataclass(frozen=True)
class Col:
    label: str
    width: float
    kind: str = "text"  # text | center | money | int | score | percent
    group: str = ""  # the upper header spanning consecutive columns with the same group


def _template(ws, *, font=FONT10, align=TOP_LEFT, number_format=None, fill=None, border=BORDER):
    cell = Cell(ws, row=1, column=1)
    cell.font, cell.alignment = font, align
    if border is not None:
        cell.border = border
    if fill is not None:
        cell.fill = fill
    if number_format:
        cell.number_format = number_format
    return cell._style


class Styles:
    """Pre-computed style arrays of one worksheet (one per column kind, body and totals)."""

    FORMATS = {"money": WAN_FORMAT, "int": INT_FORMAT, "score": SCORE_FORMAT, "percent": PERCENT_FORMAT}

    def __init__(self, ws):
        self.body, self.total = {}, {}
        for kind in ("text", "center", "money", "int", "score", "percent"):
            align = TOP_LEFT if kind == "text" else MIDDLE if kind == "center" else NUMBER
            fmt = self.FORMATS.get(kind)
            self.body[kind] = _template(ws, align=align, number_format=fmt)
            self.total[kind] = _template(ws, font=BOLD10, align=align, number_format=fmt, fill=SHADE)
        self.title = _template(ws, font=TITLE_FONT, align=CENTER, border=None)
        self.subtitle = _template(ws, font=SUBTITLE_FONT, align=TOP_LEFT, border=None)
        self.header = _template(ws, font=BOLD, align=CENTER, fill=SHADE)
        self.label = _template(ws, font=BOLD, align=TOP_LEFT)
        self.plain = _template(ws, font=SUBTITLE_FONT, align=TOP_LEFT)


def cell(ws, value, style):
    """A cell with a shared style; typed text that looks like a formula stays text."""
    c = Cell(ws, row=1, column=1, value=None if value == "" else value, style_array=style)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        c.data_type = "s"
    return c


def setup_print(ws, *, title_rows: str | None = None, landscape: bool = True) -> None:
    """A4, landscape, one page wide (as many pages tall as needed), header rows on every page."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4 if hasattr(ws, "PAPERSIZE_A4") else 9
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    if title_rows:
        ws.print_title_rows = title_rows
    footer = HeaderFooter()
    footer.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.HeaderFooter = footer


class TableSheet:
    """One table: title (merged), subtitle (merged), one or two header rows (merged), body, totals."""

    def __init__(self, wb, name: str, title: str, subtitle: str, cols: list[Col]):
        self.ws = ws = wb.create_sheet(name)
        self.cols, self.styles = cols, Styles(ws)
        last = get_column_letter(len(cols))
        for i, col in enumerate(cols, start=1):
            ws.column_dimensions[get_column_letter(i)].width = col.width
        two_levels = any(c.group for c in cols)
        self.header_first, self.header_last = 3, 4 if two_levels else 3
        self.first_data_row = self.header_last + 1
        ws.row_dimensions[1].height = 32
        ws.row_dimensions[2].height = 20
        ws.freeze_panes = f"A{self.first_data_row}"
        setup_print(ws, title_rows=f"{self.header_first}:{self.header_last}")
        ws.merged_cells.add(f"A1:{last}1")
        ws.merged_cells.add(f"A2:{last}2")
        ws.append([cell(ws, title, self.styles.title)])
        ws.append([cell(ws, subtitle, self.styles.subtitle)])
        h = self.styles.header
        if not two_levels:
            ws.append([cell(ws, c.label, h) for c in cols])
        else:
            upper, lower = [], []
            i = 0
            while i < len(cols):
                col = cols[i]
                letter = get_column_letter(i + 1)
                if not col.group:
                    ws.merged_cells.add(f"{letter}3:{letter}4")
                    upper.append(cell(ws, col.label, h))
                    lower.append(cell(ws, None, h))
                    i += 1
                    continue
                j = i
                while j + 1 < len(cols) and cols[j + 1].group == col.group:
                    j += 1
                if j > i:
                    ws.merged_cells.add(f"{letter}3:{get_column_letter(j + 1)}3")
                for k in range(i, j + 1):
                    upper.append(cell(ws, col.group if k == i else None, h))
                    lower.append(cell(ws, cols[k].label, h))
                i = j + 1
            ws.append(upper)
            ws.append(lower)
        self.rows = 0
        self._cells = [cell(ws, None, self.styles.body[c.kind]) for c in cols]
        self._total = [self.styles.total[c.kind] for c in cols]

    def row(self, values) -> None:
        """Append one body row. The row's cells are built once per sheet and refilled for every row:
        a write-only sheet serialises a row as soon as it is appended, so the same cell objects can
        carry the next row's values (this halves the cost of a 100,000-row sheet)."""
        for c, v in zip(self._cells, values, strict=True):
            c.value = None if v == "" else v
            if isinstance(v, str) and v.startswith(FORMULA_START):
                c.data_type = "s"
        self.ws.append(self._cells)
        self.rows += 1

    def totals(self, values, *, label_span: int = 1) -> None:
        """The 合计 row (bold, shaded); the label cell is merged across ``label_span`` columns."""
        row = self.first_data_row + self.rows
        if label_span > 1:
            self.ws.merged_cells.add(f"A{row}:{get_column_letter(label_span)}{row}")
        ws = self.ws
        styles = [self.styles.total["center"]] * label_span + self._total[label_span:]
        self.ws.append([cell(ws, v, s) for v, s in zip(values, styles, strict=True)])
        self.rows += 1

    def totals_line(self, label: str, values, *, span: int) -> None:
        """The 合计 row as the tables write it: ``label`` across the first ``span`` columns, then
        ``values``, blank to the last column."""
        rest = len(self.cols) - span - len(values)
        self.totals([label, *[None] * (span - 1), *values, *[None] * rest], label_span=span)

    def empty(self, text: str) -> None:
        """A one-line note across the table when there is nothing to report."""
        row = self.first_data_row + self.rows
        self.ws.merged_cells.add(f"A{row}:{get_column_letter(len(self.cols))}{row}")
        self.ws.append(
            [cell(self.ws, text, self.styles.body["center"])]
            + [cell(self.ws, None, self.styles.body["center"])] * (len(self.cols) - 1)
        )
        self.rows += 1


# --- the sheets ---------------------------------------------------------------------------------


def _region_col(scope) -> list[Col]:
    return [Col("区域", 10, "center")] if scope.all_regions else []


def _region(scope, name) -> list:
    """The region cell of a row: only in the whole city's workbook."""
    return [name] if scope.all_regions else []


def _span(scope, columns: int) -> int:
    """How many columns the 合计 label spans: ``columns``, plus the region column when there is one."""
    return columns + (1 if scope.all_regions else 0)


def _subtitle(scope, exported_at) -> str:
    when = cn_datetime(exported_at)
    return f"区域：{scope.full_label}    预算年度：{scope.year}年    金额单位：万元    导出时间：{when}"


def table_sheet(wb, name: str, what: str, scope, exported_at, cols: list[Col]) -> TableSheet:
    """A table titled “青岛市市本级2026年度<what>” with the export's subtitle."""
    return TableSheet(wb, name, f"{scope.full_label}{scope.year}年度{what}", _subtitle(scope, exported_at), cols)


def _numbered(scope, *cols: Col) -> list[Col]:
    """How every table starts: 序号, then 区域 in the whole city's workbook, then ``cols``."""
    return [Col("序号", 6, "center"), *_region_col(scope), *cols]


def _fund_cols(scope, group: str) -> list[Col]:
    """项目编码, 项目名称, 主管部门 under ``group``, after the numbering of ``_numbered``."""
    return _numbered(
        scope,
        Col("项目编码", 16, "text", group),
        Col("项目名称", 26, "text", group),
        Col("主管部门", 18, "text", group),
    )


def target_cols(scope) -> list[Col]:
    fund = "项目基本信息"
    money = "预算金额（万元）"
    ind = "绩效指标"
    return [
        *_fund_cols(scope, fund),
        Col("实施单位", 18, "text", fund),
        Col("财政拨款", 12, "money", money),
        Col("其他资金", 12, "money", money),
        Col("合计", 12, "money", money),
        Col("年度目标", 34, "text"),
        Col("一级指标", 11, "center", ind),
        Col("二级指标", 13, "center", ind),
        Col("三级指标", 26, "text", ind),
        Col("比较方式", 8, "center", ind),
        Col("指标值", 12, "text", ind),
        Col("计量单位", 8, "center", ind),
        Col("分值", 7, "score", ind),
    ]


def _num(value) -> str:
    return "" if value is None else f"{value.normalize():f}"


def write_targets(wb, user, scope, exported_at, progress) -> dict:
    sheet = table_sheet(wb, SHEET_NAMES[ReportSet.TARGETS], "项目绩效目标表", scope, exported_at, target_cols(scope))
    funds, fiscal_total, other_total, last_target = 0, Decimal(0), Decimal(0), None
    for values in sel.target_indicator_rows(user, scope).iterator(chunk_size=2000):
        (
            target_id,
            region_name,
            code,
            name,
            dept,
            org,
            fiscal,
            other,
            goal,
            l1,
            l2,
            ind,
            comp,
            value,
            text,
            unit,
            weight,
        ) = values
        first = target_id != last_target
        if first:
            funds += 1
            fiscal_total += fiscal
            other_total += other
            last_target = target_id
            fund_cells = [
                funds,
                *_region(scope, region_name),
                code,
                name,
                dept,
                org,
                wan(fiscal),
                wan(other),
                wan(fiscal + other),
                goal,
            ]
        else:  # the fund's further indicators: code and name repeated, the rest only on its first row
            fund_cells = [None, *_region(scope, region_name), code, name, None, None, None, None, None, None]
        shown = text if comp == Comparison.QUALITATIVE else _num(value)
        sheet.row(
            [*fund_cells, LEVEL1.get(l1, l1), LEVEL2.get(l2, l2), ind, COMPARISON.get(comp, comp), shown, unit, weight]
        )
        progress(1)
    if not funds:
        sheet.empty("本区域本年度没有已列入预算并批复绩效目标的项目。")
    indicators = sheet.rows if funds else 0
    sheet.totals_line(
        f"合计（{funds} 个项目，{indicators} 个指标）",
        [wan(fiscal_total), wan(other_total), wan(fiscal_total + other_total)],
        span=_span(scope, 5),
    )
    return {"funds": funds, "indicators": indicators, "fiscal": fiscal_total, "other": other_total}


def key_cols(scope) -> list[Col]:
    fund = "评价项目"
    result = "评价结果"
    return [
        *_fund_cols(scope, fund),
        Col("项目金额（万元）", 13, "money", fund),
        Col("评价得分", 9, "score", result),
        Col("评价等级", 8, "center", result),
        Col("主要问题", 36, "text", result),
        Col("意见建议", 36, "text", result),
        Col("评价机构", 20, "text"),
        Col("完成日期", 14, "center"),
    ]


def write_key_evaluations(wb, user, scope, exported_at, progress) -> dict:
    sheet = table_sheet(
        wb, SHEET_NAMES[ReportSet.KEY_EVALUATIONS], "财政重点评价结果表", scope, exported_at, key_cols(scope)
    )
    total, n = Decimal(0), 0
    for (
        region_name,
        code,
        name,
        dept,
        fiscal,
        other,
        score,
        grade,
        findings,
        advice,
        agency,
        done,
    ) in sel.key_evaluation_rows(user, scope).iterator(chunk_size=2000):
        n += 1
        total += fiscal + other
        sheet.row(
            [
                n,
                *_region(scope, region_name),
                code,
                name,
                dept,
                wan(fiscal + other),
                score,
                GRADE_LABELS.get(grade, grade),
                findings,
                advice,
                agency or "财政部门自行评价",
                cn_date(done),
            ]
        )
        progress(1)
    if not n:
        sheet.empty("本区域本年度没有已完成的财政重点评价。")
    sheet.totals_line(f"合计（{n} 个项目）", [wan(total)], span=_span(scope, 4))
    return {"count": n, "amount": total}


def department_cols(scope) -> list[Col]:
    target = "部门整体绩效目标"
    evaluation = "部门整体评价"
    return _numbered(
        scope,
        Col("部门", 20, "text", target),
        Col("中长期目标", 26, "text", target),
        Col("年度目标", 30, "text", target),
        Col("年度主要任务", 34, "text", target),
        Col("任务金额（万元）", 13, "money", target),
        Col("绩效指标数", 9, "int", target),
        Col("评价状态", 11, "center", evaluation),
        Col("评价得分", 9, "score", evaluation),
        Col("评价等级", 8, "center", evaluation),
        Col("主要问题", 30, "text", evaluation),
        Col("意见建议", 30, "text", evaluation),
    )


def write_departments(wb, user, scope, exported_at, progress) -> dict:
    sheet = table_sheet(
        wb, SHEET_NAMES[ReportSet.DEPARTMENTS], "部门整体绩效目标和评价表", scope, exported_at, department_cols(scope)
    )
    rows = sel.department_rows(user, scope)
    total = Decimal(0)
    for i, r in enumerate(rows, start=1):
        tasks = "\n".join(f"{k}. {name}（{wan(amount):,.2f}万元）" for k, (name, amount) in enumerate(r.tasks, start=1))
        total += r.task_amount
        sheet.row(
            [
                i,
                *_region(scope, r.region),
                r.department,
                r.long_term_goal,
                r.annual_goal,
                tasks,
                wan(r.task_amount),
                r.indicator_count,
                r.evaluation_status,
                r.score,
                GRADE_LABELS.get(r.grade, r.grade),
                r.findings,
                r.recommendations,
            ]
        )
        progress(1)
    if not rows:
        sheet.empty("本区域本年度没有已批复的部门整体绩效目标。")
    sheet.totals_line(f"合计（{len(rows)} 个部门）", [wan(total)], span=_span(scope, 5))
    return {"count": len(rows), "amount": total}


def summary_department_cols(scope) -> list[Col]:
    target = "绩效目标随预算报送"
    key = "财政重点评价"
    return _numbered(
        scope,
        Col("部门", 24, "text"),
        Col("项目数", 8, "int", target),
        Col("指标数", 8, "int", target),
        Col("项目金额（万元）", 14, "money", target),
        Col("项目数", 8, "int", key),
        Col("项目金额（万元）", 14, "money", key),
        Col("优", 6, "int", key),
        Col("良", 6, "int", key),
        Col("中", 6, "int", key),
        Col("差", 6, "int", key),
    )


def write_summary(wb, user, scope, exported_at, progress) -> dict:
    departments, grades = sel.summary(user, scope)
    sheet = table_sheet(
        wb, SUMMARY_DEPARTMENT_SHEET, "报人大绩效汇总表（按部门）", scope, exported_at, summary_department_cols(scope)
    )
    sums = [0, 0, Decimal(0), 0, Decimal(0), 0, 0, 0, 0]
    for i, d in enumerate(departments, start=1):
        figures = [
            d.target_funds,
            d.indicators,
            d.target_amount,
            d.evaluated,
            d.evaluated_amount,
            *(d.grades[g] for g in sel.GRADES),
        ]
        sums = [a + b for a, b in zip(sums, figures, strict=True)]
        shown = [wan(v) if k in (2, 4) else v for k, v in enumerate(figures)]
        sheet.row([i, *_region(scope, d.region), d.department, *shown])
    if not departments:
        sheet.empty("本区域本年度没有可汇总的项目。")
    shown = [wan(v) if k in (2, 4) else v for k, v in enumerate(sums)]
    sheet.totals_line("合计", shown, span=_span(scope, 2))
    progress(1)

    grade_cols = [
        Col("评价等级", 10, "center"),
        Col("项目数", 10, "int"),
        Col("项目数占比", 12, "percent"),
        Col("项目金额（万元）", 16, "money"),
        Col("金额占比", 12, "percent"),
    ]
    by_grade = table_sheet(
        wb, SUMMARY_GRADE_SHEET, "财政重点评价结果汇总表（按评价等级）", scope, exported_at, grade_cols
    )
    count = sum(g.count for g in grades)
    amount = sum((g.amount for g in grades), Decimal(0))
    for g in grades:
        by_grade.row([g.label, g.count, percent(g.count, count), wan(g.amount), percent(g.amount, amount)])
    by_grade.totals(["合计", count, percent(count, count), wan(amount), percent(amount, amount)])
    progress(1)
    return {"departments": len(departments), "evaluated": count, "amount": amount}


def percent(part, whole) -> Decimal | None:
    """Share in % with two decimals (the cell format adds the sign); empty when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"))


# --- cover and the whole workbook -----------------------------------------------------------------


def openpyxl_uses_lxml() -> bool:
    """openpyxl serialises with lxml when it is installed (about a third faster than et_xmlfile)."""
    import openpyxl

    return bool(openpyxl.LXML)


def cn_date(value) -> str:
    if not value:
        return ""
    value = timezone.localtime(value) if hasattr(value, "hour") and timezone.is_aware(value) else value
    return f"{value.year}年{value.month}月{value.day}日"


def cn_datetime(value) -> str:
    """2026年11月26日 10:30 (local time)."""
    value = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{value.year}年{value.month}月{value.day}日 {value:%H:%M}"


def workbook_title(scope) -> str:
    return f"{scope.full_label}{scope.year}年度报人大绩效报表"


def file_name(scope, exported_at) -> str:
    """青岛市市本级2026年度报人大绩效报表_20261126.xlsx"""
    day = timezone.localtime(exported_at) if timezone.is_aware(exported_at) else exported_at
    return safe_filename(f"{workbook_title(scope)}_{day:%Y%m%d}.xlsx")


def write_cover(wb, *, scope, sets, exporter, exported_at, classified: int) -> None:
    ws = wb.create_sheet(COVER_SHEET)
    styles = Styles(ws)
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 90
    setup_print(ws, landscape=True)
    ws.merged_cells.add("A1:B1")
    ws.row_dimensions[1].height = 40
    ws.append([cell(ws, workbook_title(scope), styles.title)])
    ws.append([])
    org = exporter.organization.name if exporter.organization_id else ""
    tables = "、".join(ReportSet.labels[s] for s in sets)
    lines = [
        ("报送区域", scope.full_label),
        ("预算年度", f"{scope.year}年"),
        ("报表内容", tables),
        ("数据截至", cn_datetime(exported_at)),
        ("导出时间", cn_datetime(exported_at)),
        ("导出人", f"{exporter.display_name}（{org}）" if org else exporter.display_name),
        ("金额单位", "万元（保留两位小数；合计按元汇总后折算）"),
        ("涉密项目", f"涉密专项资金及其绩效目标、评价结果不列入本报表（本范围内共 {classified} 个涉密项目未列入）。"),
    ]
    for i, s in enumerate(sets, start=1):
        lines.append((f"数据口径{i}" if len(sets) > 1 else "数据口径", SOURCE_NOTES[s]))
    for label, text in lines:
        ws.append([cell(ws, label, styles.label), cell(ws, text, styles.plain)])
    ws.append([])
    ws.append([cell(ws, "本报表由青岛市预算绩效管理系统生成。", styles.subtitle)])


WRITERS = [
    (ReportSet.TARGETS, write_targets),
    (ReportSet.KEY_EVALUATIONS, write_key_evaluations),
    (ReportSet.DEPARTMENTS, write_departments),
    (ReportSet.SUMMARY, write_summary),
]


class _Counter:
    """Adapts ``progress(done, total)`` to per-row ticks."""

    def __init__(self, progress, total: int):
        self.progress, self.total, self.done = progress, total, 0
        progress(0, total)

    def __call__(self, n: int = 1) -> None:
        self.done += n
        self.progress(self.done, self.total)


def build_workbook(*, user, scope, sets: list[str], progress=None, exported_at=None):
    """Write the workbook into a temporary file. Returns ``(file at position 0, file name, figures)``.

    ``progress(done, total)`` is called as rows are written (the job's progress bar)."""
    exported_at = exported_at or timezone.now()
    sets = [s for s in ReportSet.values if s in sets]
    counts = sel.row_counts(user, scope, sets)
    small = {ReportSet.DEPARTMENTS: 1, ReportSet.SUMMARY: 2}
    total = sum(counts.values()) + sum(small[s] for s in sets if s in small)
    counter = _Counter(progress or (lambda done, total: None), total)
    wb = Workbook(write_only=True)
    write_cover(
        wb,
        scope=scope,
        sets=sets,
        exporter=user,
        exported_at=exported_at,
        classified=sel.classified_count(user, scope),
    )
    figures = {}
    for key, writer in WRITERS:
        if key in sets:
            tick = counter if key != ReportSet.DEPARTMENTS else (lambda n=1: None)
            figures[key] = writer(wb, user, scope, exported_at, tick)
            if key == ReportSet.DEPARTMENTS:
                counter(1)
    file = tempfile.TemporaryFile()  # noqa: SIM115 — job_run stores and closes it
    wb.save(file)
    file.seek(0)
    counter.progress(total, total)
    return file, file_name(scope, exported_at), figures
