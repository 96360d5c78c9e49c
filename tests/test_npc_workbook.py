"""The NPC workbook (报人大) on the demo data, checked cell by cell against the database: sheet names,
titles, merged two-level headers, every amount in 万元, totals equal to database sums, freeze panes,
print setup; 涉密 funds excluded (and counted on the cover); regions kept apart."""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.management import call_command
from django.db.models import F, Sum
from django.utils import timezone
from openpyxl import load_workbook

from apps.accounts.models import User
from apps.evaluations.models import KeyEvaluation
from apps.funds.models import SpecialFund
from apps.indicators.framework import Comparison, Level1, Level2
from apps.results import npc_excel
from apps.results import selectors_npc as sel
from apps.targets.models import PerformanceTarget

YEAR = 2025  # the demo's ended year: targets, a completed key evaluation, a department evaluation
CITY = "370200"
SHINAN = "370202"
EXPORTED_AT = timezone.make_aware(datetime(2026, 11, 26, 10, 30))
SHEETS = [
    "封面",
    "项目绩效目标表",
    "财政重点评价结果表",
    "部门整体绩效目标和评价表",
    "汇总表（按部门）",
    "汇总表（按评价等级）",
]
L1, L2, CMP = dict(Level1.choices), dict(Level2.choices), dict(Comparison.choices)


def wan(yuan) -> Decimal:
    return (Decimal(yuan) / 10000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def num(cell) -> Decimal:
    """A written amount as Decimal (openpyxl reads numbers back as int/float)."""
    return Decimal(str(cell)).quantize(Decimal("0.01"))


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def export(username, region, sets=None, tmp_path=None, year=YEAR):
    user = User.objects.get(username=username)
    scope = sel.resolve_scope(user, region=region, year=year)
    file, name, _ = npc_excel.build_workbook(
        user=user, scope=scope, sets=sets or sel.ReportSet.values, exported_at=EXPORTED_AT
    )
    path = tmp_path / "npc.xlsx"
    path.write_bytes(file.read())
    return load_workbook(path), name


def reported_targets(region_code, year=YEAR):
    return (
        PerformanceTarget.objects.filter(
            kind="fund",
            status="approved",
            fiscal_year_id=year,
            fund__region__code=region_code,
            fund__request_status="arranged",
            fund__is_classified=False,
        )
        .select_related("fund__department", "fund__organization")
        .prefetch_related("indicators")
        .order_by("fund__code")
    )


def data_rows(ws, first=5):
    return [list(r) for r in ws.iter_rows(min_row=first, max_row=ws.max_row, values_only=True)]


def assert_print_setup(ws, title_rows):
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert int(ws.page_setup.fitToWidth) == 1 and int(ws.page_setup.fitToHeight) == 0
    assert ws.print_title_rows == title_rows


def test_city_workbook_matches_the_database_cell_by_cell(demo, tmp_path):
    classified = reported_targets(CITY)[3].fund  # one reported fund is 涉密: it must vanish
    SpecialFund.objects.filter(pk=classified.pk).update(is_classified=True)
    wb, name = export("npc_liaison", CITY, tmp_path=tmp_path)

    assert name == "青岛市市本级2025年度报人大绩效报表_20261126.xlsx"
    assert wb.sheetnames == SHEETS

    # --- cover -------------------------------------------------------------------------------
    cover = {r[0]: r[1] for r in wb["封面"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert wb["封面"]["A1"].value == "青岛市市本级2025年度报人大绩效报表"
    assert "A1:B1" in {str(r) for r in wb["封面"].merged_cells.ranges}
    assert cover["报送区域"] == "青岛市市本级" and cover["预算年度"] == "2025年"
    assert cover["报表内容"].startswith("项目绩效目标表、财政重点评价结果表、部门整体绩效目标和评价表、汇总表")
    assert cover["导出时间"] == "2026年11月26日 10:30" and cover["数据截至"] == "2026年11月26日 10:30"
    assert cover["导出人"] == "吴人大（青岛市人大常委会预算工作室）"
    assert "共 1 个涉密项目未列入" in cover["涉密项目"]
    assert "已安排" in cover["数据口径1"] and "已批复" in cover["数据口径1"]

    # --- 项目绩效目标表: one row per indicator, fund columns on the fund's first row --------------
    ws = wb["项目绩效目标表"]
    assert ws["A1"].value == "青岛市市本级2025年度项目绩效目标表"
    assert ws["A2"].value.startswith("区域：青岛市市本级    预算年度：2025年    金额单位：万元")
    assert {str(r) for r in ws.merged_cells.ranges} >= {
        "A1:P1", "A2:P2", "A3:A4", "B3:E3", "F3:H3", "I3:I4", "J3:P3",
    }  # fmt: skip
    assert [c.value for c in ws[3]] == ["序号", "项目基本信息", None, None, None, "预算金额（万元）", None, None,
                                        "年度目标", "绩效指标", None, None, None, None, None, None]  # fmt: skip
    assert [c.value for c in ws[4]][1:8] == [
        "项目编码",
        "项目名称",
        "主管部门",
        "实施单位",
        "财政拨款",
        "其他资金",
        "合计",
    ]
    assert [c.value for c in ws[4]][9:] == [
        "一级指标",
        "二级指标",
        "三级指标",
        "比较方式",
        "指标值",
        "计量单位",
        "分值",
    ]
    assert ws.freeze_panes == "A5"
    assert_print_setup(ws, "$3:$4")
    assert ws.column_dimensions["C"].width >= 24 and ws.column_dimensions["I"].width >= 30

    targets = list(reported_targets(CITY))
    assert classified.pk not in {t.fund_id for t in targets} and len(targets) >= 20
    expected = []
    for i, t in enumerate(targets, start=1):
        f = t.fund
        for k, ind in enumerate(sorted(t.indicators.all(), key=lambda x: (x.sort_order, x.pk))):
            value = ind.target_text if ind.comparison == "qualitative" else f"{ind.target_value.normalize():f}"
            fund_cells = (
                [i, f.code, f.name, f.department.name, f.organization.name,
                 wan(f.fiscal_amount), wan(f.other_amount), wan(f.fiscal_amount + f.other_amount), t.annual_goal]
                if k == 0 else [None, f.code, f.name, None, None, None, None, None, None]
            )  # fmt: skip
            expected.append(
                [*fund_cells, L1[ind.level1], L2[ind.level2], ind.name, CMP[ind.comparison], value,
                 ind.unit or None, ind.weight]
            )  # fmt: skip
    rows = data_rows(ws)
    body, total = rows[: len(expected)], rows[len(expected)]
    for got, want in zip(body, expected, strict=True):
        got = [num(v) if j in (5, 6, 7) and v is not None else v for j, v in enumerate(got)]
        got[15] = Decimal(str(got[15]))
        assert got == want
    assert ws.cell(5, 6).number_format == "#,##0.00" and ws.cell(5, 16).number_format == "0.00"
    sums = SpecialFund.objects.filter(pk__in=[t.fund_id for t in targets]).aggregate(
        fiscal=Sum("fiscal_amount"), other=Sum("other_amount")
    )
    assert total[0] == f"合计（{len(targets)} 个项目，{len(expected)} 个指标）"
    assert [num(v) for v in total[5:8]] == [
        wan(sums["fiscal"]),
        wan(sums["other"]),
        wan(sums["fiscal"] + sums["other"]),
    ]
    assert f"A{5 + len(expected)}:E{5 + len(expected)}" in {str(r) for r in ws.merged_cells.ranges}
    assert ws.cell(5 + len(expected), 6).font.b

    # --- 财政重点评价结果表 ----------------------------------------------------------------------
    ws = wb["财政重点评价结果表"]
    assert ws["A1"].value == "青岛市市本级2025年度财政重点评价结果表"
    assert {str(r) for r in ws.merged_cells.ranges} >= {"A1:K1", "A3:A4", "B3:E3", "F3:I3", "J3:J4", "K3:K4"}
    assert ws.freeze_panes == "A5"
    assert_print_setup(ws, "$3:$4")
    done = list(
        KeyEvaluation.objects.filter(
            plan__kind="finance", plan__fiscal_year_id=YEAR, subject="fund", status="completed",
            fund__region__code=CITY, fund__is_classified=False,
        ).select_related("fund", "department", "agency").order_by("fund__code")
    )  # fmt: skip
    assert len(done) == 1
    rows = data_rows(ws)
    for i, (got, e) in enumerate(zip(rows, done, strict=False), start=1):
        local = timezone.localtime(e.completed_at)
        assert got[:4] == [i, e.fund.code, e.fund.name, e.department.name]
        assert num(got[4]) == wan(e.fund.fiscal_amount + e.fund.other_amount)
        assert Decimal(str(got[5])) == e.score and got[6] == e.get_grade_display()
        assert got[7:10] == [e.findings, e.recommendations, e.agency.name]
        assert got[10] == f"{local.year}年{local.month}月{local.day}日"
    assert rows[len(done)][0] == "合计（1 个项目）"
    assert num(rows[len(done)][4]) == wan(done[0].fund.fiscal_amount + done[0].fund.other_amount)

    # --- 部门整体绩效目标和评价表 -----------------------------------------------------------------
    ws = wb["部门整体绩效目标和评价表"]
    assert {str(r) for r in ws.merged_cells.ranges} >= {"A1:L1", "A3:A4", "B3:G3", "H3:L3"}
    dept_targets = list(
        PerformanceTarget.objects.filter(
            kind="department", status="approved", fiscal_year_id=YEAR, organization__region__code=CITY
        ).select_related("organization")
    )
    assert len(dept_targets) == 1
    t = dept_targets[0]
    tasks = list(t.tasks.order_by("sort_order", "id"))
    row = data_rows(ws)[0]
    assert row[:4] == [1, t.organization.name, t.long_term_goal or None, t.annual_goal or None]
    assert row[4].splitlines() == [f"{k}. {x.name}（{wan(x.amount):,.2f}万元）" for k, x in enumerate(tasks, 1)]
    assert num(row[5]) == wan(sum(x.amount for x in tasks)) and row[6] == t.indicators.count()
    evaluation = KeyEvaluation.objects.get(subject="department", plan__fiscal_year_id=YEAR, department=t.organization)
    assert row[7] == evaluation.get_status_display()
    assert data_rows(ws)[1][0] == "合计（1 个部门）" and num(data_rows(ws)[1][5]) == num(row[5])

    # --- 汇总表（按部门）: grouped counts and amounts equal the database, totals the sums -----------
    ws = wb["汇总表（按部门）"]
    assert {str(r) for r in ws.merged_cells.ranges} >= {"A3:A4", "B3:B4", "C3:E3", "F3:K3"}
    assert_print_setup(ws, "$3:$4")
    by_dept = {}
    for t in targets:
        d = by_dept.setdefault(t.fund.department.name, [0, 0, Decimal(0), 0, Decimal(0), 0, 0, 0, 0])
        d[0] += 1
        d[1] += t.indicators.count()
        d[2] += t.fund.fiscal_amount + t.fund.other_amount
    grade_pos = {"excellent": 5, "good": 6, "fair": 7, "poor": 8}
    for e in done:
        d = by_dept.setdefault(e.department.name, [0, 0, Decimal(0), 0, Decimal(0), 0, 0, 0, 0])
        d[3] += 1
        d[4] += e.fund.fiscal_amount + e.fund.other_amount
        d[grade_pos[e.grade]] += 1
    rows = data_rows(ws)
    body, total = rows[:-1], rows[-1]
    assert len(body) == len(by_dept)
    for row in body:
        want = by_dept[row[1]]
        assert row[2:4] == want[0:2] and num(row[4]) == wan(want[2])
        assert row[5] == want[3] and num(row[6]) == wan(want[4]) and row[7:] == want[5:]
    assert total[0] == "合计"
    assert total[2] == sum(w[0] for w in by_dept.values()) == len(targets)
    assert total[3] == len(expected)
    assert num(total[4]) == wan(sums["fiscal"] + sums["other"])
    assert total[5] == len(done) and sum(total[7:11]) == len(done)

    # --- 汇总表（按评价等级） --------------------------------------------------------------------
    ws = wb["汇总表（按评价等级）"]
    assert ws.freeze_panes == "A4"
    assert_print_setup(ws, "$3:$3")
    rows = data_rows(ws, first=4)
    assert [r[0] for r in rows] == ["优", "良", "中", "差", "合计"]
    grade_row = next(r for r in rows if r[0] == done[0].get_grade_display())
    assert grade_row[1] == 1 and Decimal(str(grade_row[2])) == Decimal("100")
    assert num(grade_row[3]) == wan(done[0].fund.fiscal_amount + done[0].fund.other_amount)
    assert rows[-1][1] == 1 and ws.cell(4, 3).number_format == '0.00"%"'


def test_classified_evaluated_fund_leaves_every_sheet(demo, tmp_path):
    evaluated = KeyEvaluation.objects.get(plan__fiscal_year_id=YEAR, plan__kind="finance", subject="fund",
                                          status="completed", fund__region__code=CITY)  # fmt: skip
    SpecialFund.objects.filter(pk=evaluated.fund_id).update(is_classified=True)
    wb, _ = export("perf_admin", CITY, tmp_path=tmp_path)
    codes = {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row}
    assert evaluated.fund.code not in codes and evaluated.fund.name not in codes
    assert data_rows(wb["财政重点评价结果表"])[0][0] == "本区域本年度没有已完成的财政重点评价。"
    assert data_rows(wb["汇总表（按评价等级）"], first=4)[-1][1] == 0
    cover = {r[0]: r[1] for r in wb["封面"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert "共 1 个涉密项目未列入" in cover["涉密项目"]


def test_district_gets_its_own_region_and_the_city_gets_all_regions(demo, tmp_path):
    wb, name = export("shinan_finance", SHINAN, sets=["targets"], tmp_path=tmp_path)
    assert name == "青岛市市南区2025年度报人大绩效报表_20261126.xlsx"
    assert wb.sheetnames == ["封面", "项目绩效目标表"]
    codes = [r[1] for r in data_rows(wb["项目绩效目标表"])[:-1]]
    assert codes and all(c.startswith(SHINAN) for c in codes)
    assert len(set(codes)) == reported_targets(SHINAN).count()

    wb, name = export("perf_admin", sel.ALL_REGIONS, sets=["targets", "summary"], tmp_path=tmp_path)
    assert name == "青岛市全市（含各区市）2025年度报人大绩效报表_20261126.xlsx"
    ws = wb["项目绩效目标表"]
    assert [c.value for c in ws[3]][:3] == ["序号", "区域", "项目基本信息"]  # a region column for the city
    rows = data_rows(ws)
    regions = {r[1] for r in rows[:-1]}
    assert {"市本级", "市南区"} <= regions and len(regions) == 11
    all_funds = PerformanceTarget.objects.filter(
        kind="fund", status="approved", fiscal_year_id=YEAR, fund__request_status="arranged",
        fund__is_classified=False,
    )  # fmt: skip
    amount = SpecialFund.objects.filter(targets__in=all_funds).aggregate(s=Sum(F("fiscal_amount") + F("other_amount")))
    assert rows[-1][0] == f"合计（{all_funds.count()} 个项目，{len(rows) - 1} 个指标）"
    assert num(rows[-1][8]) == wan(amount["s"])
    assert "A{0}:F{0}".format(4 + len(rows)) in {str(r) for r in ws.merged_cells.ranges}
