"""Excel for 双监控: the execution import (all or nothing), the 绩效运行监控表 of one report, the summary."""

import io
from decimal import Decimal
from urllib.parse import quote

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from apps.accounts.roles import Role
from apps.core.models import AuditEvent
from apps.monitoring import excel, selectors, services
from apps.monitoring.models import KeyMonitoring, MonitoringReport
from apps.targets import services as target_services
from tests.factories import UserFactory
from tests.querycount import assert_constant_queries
from tests.test_monitoring import fill, open_round
from tests.test_targets_flow import GOOD_ROWS, approve_all_the_way, filed_target, make_fund

URLS = "tests.monitoring_excel_urls"
SHEET = "执行数据"
CODES = ["EDU-2026-001", "EDU-2026-002", "EDU-2026-003"]


def approved_fund(world, year, code):
    return approve_all_the_way(world, filed_target(world, make_fund(world, year, code=code)))


def approved_health_fund(world, year, code):
    """A fund of 卫生健康委 (another department), approved all the way."""
    approver = UserFactory(username="health_approver", organization=world.health, roles=[Role.DEPT_APPROVER])
    reviewer = UserFactory(username="sector_sb", organization=world.kjw_division, roles=[Role.FINANCE_SECTOR])
    reviewer.assigned_departments.set([world.health])
    fund = make_fund(world, year, code=code, org=world.health_unit, actor=world.health_filler, name="基层医疗服务")
    target = target_services.target_start(actor=world.health_filler, fund=fund)
    target_services.target_save(actor=world.health_filler, target=target, long_term_goal="提升基层医疗",
                                annual_goal="完成年度任务", rows=GOOD_ROWS)  # fmt: skip
    target_services.target_send(actor=world.health_filler, target=target)
    target_services.target_submit(actor=approver, target=target)
    target_services.target_pass(actor=reviewer, target=target)
    return target_services.target_approve(actor=world.perf_admin, target=target)


@pytest.fixture
def round_(world, year):
    for code in CODES:
        approved_fund(world, year, code)
    return open_round(world, year)[0]


def workbook(rows, header=("项目编码", "已执行金额"), before=()):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    for row in [*before, header, *rows]:
        ws.append(list(row))
    return wb


def to_upload(wb, name="执行数.xlsx") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=excel.XLSX_CONTENT_TYPE)


def upload(rows, **kwargs):
    return to_upload(workbook(rows, **kwargs))


def state(round_):
    """Everything an import could change, to compare before and after."""
    reports = list(
        MonitoringReport.objects.filter(round=round_)
        .order_by("fund__code")
        .values_list("fund__code", "imported_executed_amount", "imported_at", "executed_amount", "updated_at")
    )
    return reports, AuditEvent.objects.filter(kind="update").count()


def imported(round_) -> dict[str, Decimal | None]:
    return dict(MonitoringReport.objects.filter(round=round_).values_list("fund__code", "imported_executed_amount"))


def content_of(response) -> bytes:
    return b"".join(response.streaming_content)


# --- execution import: the service -----------------------------------------------------------


def test_import_sets_the_treasury_figure_of_the_reports_in_the_file(world, round_):
    count = excel.execution_import(
        actor=world.perf_admin, round=round_, file=upload([["EDU-2026-001", 1180000], ["EDU-2026-003", "2,500.5"]])
    )
    assert count == 2
    assert imported(round_) == {
        "EDU-2026-001": Decimal("1180000.00"),
        "EDU-2026-002": None,
        "EDU-2026-003": Decimal("2500.50"),
    }
    report = MonitoringReport.objects.get(fund__code="EDU-2026-001")
    assert report.imported_at is not None and report.executed_amount is None  # the unit's figure is untouched
    assert MonitoringReport.objects.get(fund__code="EDU-2026-002").imported_at is None
    event = AuditEvent.objects.filter(kind="update").latest("pk")
    assert (event.comment, event.object_id, event.actor) == ("导入执行数 2 条", str(round_.pk), world.perf_admin)
    # imported figures count for the execution rate while the unit has not filled in its own
    assert selectors.warnings_for([report])[0].rate == Decimal("39.33")


@pytest.mark.parametrize(
    ("header", "before", "value", "expected"),
    [
        (("项目编码", "已执行金额（万元）"), (), 123.4567, "1234567.00"),
        (("项目代码", "支出金额(万元)"), (), "1,200", "12000000.00"),
        (("编码", "执行数（元）"), (), 1180000, "1180000.00"),
        (("序号", "项目名称", "编码", "实际支出 （ 万元 ）"), (["国库集中支付执行情况"], ["单位：见表头"]), 0, "0.00"),
    ],
)
def test_header_aliases_and_unit_hint(world, round_, header, before, value, expected):
    row = ["EDU-2026-002", value] if len(header) == 2 else [1, "家庭经济困难学生资助", "EDU-2026-002", value]
    excel.execution_import(actor=world.perf_admin, round=round_, file=upload([row], header=header, before=before))
    assert imported(round_)["EDU-2026-002"] == Decimal(expected)


def test_blank_lines_are_skipped_and_numeric_codes_are_read_as_typed(world, year):
    approved_fund(world, year, "370200101")
    round_ = open_round(world, year)[0]
    count = excel.execution_import(
        actor=world.perf_admin, round=round_, file=upload([[None, None], [370200101, 5], ["", ""]])
    )
    assert count == 1 and imported(round_) == {"370200101": Decimal("5.00")}


def where(row, column="A", label="项目编码"):
    return f"工作表“{SHEET}”第 {row} 行 {column} 列（{label}）："


AMOUNT = ("B", "已执行金额")
FORMULA = "单元格是公式“{}”，请改为直接填写数值或文字（导入不计算公式）。"
BAD_ROWS = {
    "unknown_code": (
        [["EDU-2026-001", 1], ["EDU-2099-999", 2]],
        [where(3) + "项目编码“EDU-2099-999”不在本监控轮次中（本轮没有该项目的监控任务）。"],
    ),
    "duplicate_code": (
        [["EDU-2026-001", 1], ["EDU-2026-002", 2], ["EDU-2026-001", 3]],
        [where(4) + "项目编码“EDU-2026-001”重复，与第 2 行相同。"],
    ),
    "empty_code": ([["EDU-2026-001", 1], [None, 2]], [where(3) + "请填写项目编码。"]),
    "empty_amount": ([["EDU-2026-001", 1], ["EDU-2026-002", None]], [where(3, *AMOUNT) + "请填写已执行金额。"]),
    "blank_text_amount": ([["EDU-2026-002", "  "]], [where(2, *AMOUNT) + "请填写已执行金额。"]),
    "negative_amount": ([["EDU-2026-001", -0.01]], [where(2, *AMOUNT) + "已执行金额不能为负数。"]),
    "text_amount": ([["EDU-2026-001", "一百万"]], [where(2, *AMOUNT) + "“一百万”不是数字。"]),
    "nan_amount": ([["EDU-2026-001", "NaN"]], [where(2, *AMOUNT) + "“NaN”不是有效的金额。"]),
    "infinite_amount": ([["EDU-2026-001", "-Infinity"]], [where(2, *AMOUNT) + "“-Infinity”不是有效的金额。"]),
    "boolean_amount": ([["EDU-2026-001", True]], [where(2, *AMOUNT) + "“True”不是数字。"]),
    "too_big_amount": ([["EDU-2026-001", "1e16"]], [where(2, *AMOUNT) + "已执行金额超出允许的范围。"]),
    "formula_amount": ([["EDU-2026-001", "=1000+200"]], [where(2, *AMOUNT) + FORMULA.format("=1000+200")]),
    "formula_code": ([["=A1", 5]], [where(2) + FORMULA.format("=A1")]),
    "every_bad_row_is_listed": (
        [
            ["EDU-2026-001", 100],
            ["EDU-2026-002", "=B2*2"],
            ["NOPE", "abc"],
            ["EDU-2026-001", -5],
            ["EDU-2026-003", 300],
        ],
        [
            where(3, *AMOUNT) + FORMULA.format("=B2*2"),
            where(4) + "项目编码“NOPE”不在本监控轮次中（本轮没有该项目的监控任务）。",
            where(4, *AMOUNT) + "“abc”不是数字。",
            where(5) + "项目编码“EDU-2026-001”重复，与第 2 行相同。",
            where(5, *AMOUNT) + "已执行金额不能为负数。",
        ],
    ),
}


@pytest.mark.parametrize("case", BAD_ROWS)
def test_any_bad_row_refuses_the_whole_file_and_nothing_changes(world, round_, case):
    excel.execution_import(actor=world.perf_admin, round=round_, file=upload([["EDU-2026-003", 7]]))
    rows, expected = BAD_ROWS[case]
    before = state(round_)
    with pytest.raises(excel.ImportRefused) as exc:
        excel.execution_import(actor=world.perf_admin, round=round_, file=upload(rows))
    assert exc.value.problems == [] and [str(e) for e in exc.value.cell_errors] == expected
    assert state(round_) == before


def _empty_workbook():
    return to_upload(openpyxl.Workbook())


BAD_FILES = {
    "csv": (lambda: SimpleUploadedFile("执行数.csv", "项目编码,已执行金额\n".encode()), [excel.MSG_NOT_XLSX]),
    "xls": (lambda: SimpleUploadedFile("执行数.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100), [excel.MSG_NOT_XLSX]),
    "renamed_text": (lambda: SimpleUploadedFile("执行数.xlsx", "项目编码".encode()), [excel.MSG_BAD_CONTENT]),
    "too_big": (
        lambda: SimpleUploadedFile("执行数.xlsx", b"PK\x03\x04" + b"\0" * (11 * 1024 * 1024 - 4)),
        ["文件大小为 11.0 MB，超过 10 MB 的上限。"],
    ),
    "no_file": (lambda: None, [excel.MSG_NO_FILE]),
    "empty_sheet": (_empty_workbook, [excel.MSG_EMPTY]),
    "header_only": (lambda: upload([]), [f"工作表“{SHEET}”只有表头，没有数据行，未导入。"]),
    "missing_columns": (
        lambda: upload([["EDU-2026-001", 5]], header=("编号", "金额")),
        [
            f"工作表“{SHEET}”前 10 行中找不到“项目编码”列（表头也可写作“项目代码”或“编码”）。",
            f"工作表“{SHEET}”前 10 行中找不到“已执行金额”列（表头也可写作“支出金额”“执行数”或“实际支出”）。",
        ],
    ),
    "missing_amount_column": (
        lambda: upload([["EDU-2026-001", 5]], header=("项目编码", "预算数")),
        [f"工作表“{SHEET}”前 10 行中找不到“已执行金额”列（表头也可写作“支出金额”“执行数”或“实际支出”）。"],
    ),
    "header_below_row_10": (
        lambda: upload([["EDU-2026-001", 5]], before=[["说明"]] * 10),
        [
            f"工作表“{SHEET}”前 10 行中找不到“项目编码”列（表头也可写作“项目代码”或“编码”）。",
            f"工作表“{SHEET}”前 10 行中找不到“已执行金额”列（表头也可写作“支出金额”“执行数”或“实际支出”）。",
        ],
    ),
    "unknown_unit": (
        lambda: upload([["EDU-2026-001", 5]], header=("项目编码", "已执行金额（亿元）")),
        [f"工作表“{SHEET}”第 1 行 B 列“已执行金额（亿元）”：金额单位“亿元”无法识别，只能是“元”或“万元”。"],
    ),
    "two_amount_columns": (
        lambda: upload([["EDU-2026-001", 5, 6]], header=("项目编码", "支出金额", "执行数")),
        [
            f"工作表“{SHEET}”第 1 行的表头有重复的列（A 列“项目编码”、B 列“支出金额”、C 列“执行数”），"
            "请只保留一个项目编码列和一个金额列。"
        ],
    ),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_file_is_refused_and_nothing_changes(world, round_, case):
    build, expected = BAD_FILES[case]
    before = state(round_)
    with pytest.raises(excel.ImportRefused) as exc:
        excel.execution_import(actor=world.perf_admin, round=round_, file=build())
    assert exc.value.problems == expected and exc.value.cell_errors == []
    assert state(round_) == before


def test_the_first_sheet_with_the_columns_is_read(world, round_):
    wb = workbook([["EDU-2026-001", 9]])
    wb.create_sheet("说明", 0).append(["本文件由国库集中支付系统导出"])
    assert excel.execution_import(actor=world.perf_admin, round=round_, file=to_upload(wb)) == 1


@pytest.mark.parametrize("persona", ["edu_approver", "shinan_finance", "sector_kjw", "npc_liaison"])
def test_only_the_regions_finance_may_import(world, round_, persona):
    before = state(round_)
    with pytest.raises(PermissionDenied):
        excel.execution_import(
            actor=getattr(world, persona), round=round_, file=upload([["EDU-2026-001", 1]])
        )  # fmt: skip
    assert state(round_) == before


# --- execution import: the page --------------------------------------------------------------


@pytest.mark.urls(URLS)
def test_import_page_explains_the_columns_and_imports(world, round_, login):
    client = login(world.perf_admin)
    url = reverse("monitoring:execution_import", args=[round_.pk])
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="import-form"' in text and "“项目代码”" in text and "“实际支出”" in text and "（万元）" in text
    assert reverse("monitoring:execution_template", args=[round_.pk]) in text
    response = client.post(url, {"file": upload([["EDU-2026-002", 300000]])})
    assert response.status_code == 302 and response["Location"] == reverse("monitoring:round_detail", args=[round_.pk])
    assert imported(round_)["EDU-2026-002"] == Decimal("300000.00")
    assert "已导入执行数 1 个" in client.get(url).content.decode()


@pytest.mark.urls(URLS)
def test_import_page_lists_every_bad_cell(world, round_, login):
    client = login(world.perf_admin)
    before = state(round_)
    rows, expected = BAD_ROWS["every_bad_row_is_listed"]
    response = client.post(reverse("monitoring:execution_import", args=[round_.pk]), {"file": upload(rows)})
    assert response.status_code == 400
    assert [str(e) for e in response.context["cell_errors"]] == expected
    text = response.content.decode()
    assert "未导入，数据没有任何改动" in text and "共 5 处错误" in text and "B（已执行金额）" in text
    response = client.post(reverse("monitoring:execution_import", args=[round_.pk]), {})
    assert response.status_code == 400 and response.context["problems"] == [excel.MSG_NO_FILE]
    assert state(round_) == before


@pytest.mark.urls(URLS)
def test_department_and_other_district_cannot_import(world, round_, login):
    url = reverse("monitoring:execution_import", args=[round_.pk])
    template = reverse("monitoring:execution_template", args=[round_.pk])
    before = state(round_)
    for persona, status in (("edu_approver", 403), ("sector_kjw", 403), ("shinan_finance", 404)):
        client = login(getattr(world, persona))
        assert client.get(url).status_code == status, persona
        assert client.post(url, {"file": upload([["EDU-2026-001", 1]])}).status_code == status, persona
        assert client.get(template).status_code == status, persona
    assert state(round_) == before


@pytest.mark.urls(URLS)
def test_template_lists_the_rounds_codes_and_reimports_once_filled(world, round_, login):
    client = login(world.perf_admin)
    response = client.get(reverse("monitoring:execution_template", args=[round_.pk]))
    assert response.status_code == 200
    name = f"执行数导入模板-青岛市财政局-{timezone.localdate():%Y%m%d}.xlsx"
    assert f"filename*=utf-8''{quote(name)}" in response["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(content_of(response)))
    ws = wb["执行数"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert rows[0] == ["项目编码", "项目名称", "主管部门", "实施单位", "已执行金额（元）"]
    assert [r[0] for r in rows[1:]] == CODES and all(r[4] is None for r in rows[1:])
    assert rows[1][1:4] == ["家庭经济困难学生资助", "青岛市教育局", "青岛第二中学"]
    for i, row in enumerate(ws.iter_rows(min_row=3), start=1):
        row[4].value = i * 1000
    assert excel.execution_import(actor=world.perf_admin, round=round_, file=to_upload(wb)) == 3
    assert imported(round_) == {code: Decimal(i * 1000) for i, code in enumerate(CODES, start=1)}
    assert AuditEvent.objects.filter(kind="export", actor=world.perf_admin, comment__contains="导入模板").exists()


# --- the 绩效运行监控表 of one report ------------------------------------------------------------


def labelled(ws) -> dict[str, object]:
    """Header block: each label (A or F) → the value next to it (C or H)."""
    values = {}
    for row in range(3, 9):
        for label, value in (("A", "C"), ("F", "H")):
            if ws[f"{label}{row}"].value:
                values[ws[f"{label}{row}"].value] = ws[f"{value}{row}"].value
    return values


@pytest.mark.urls(URLS)
def test_report_export_has_the_official_layout(world, year, approved, login):
    round_ = open_round(world, year)[0]
    report = MonitoringReport.objects.get()
    fill(world, report, expected_value="1000", likelihood="possible", deviation_cause="funding",
         corrective_measure="追加资金，加快发放进度")  # fmt: skip
    excel.execution_import(actor=world.perf_admin, round=round_, file=upload([["EDU-2026-001", 1180000]]))
    client = login(world.edu_unit_filler)
    response = client.get(reverse("monitoring:report_export_xlsx", args=[report.pk]))
    assert response.status_code == 200 and response["Content-Type"] == excel.XLSX_CONTENT_TYPE
    name = f"绩效运行监控表-EDU-2026-001-{timezone.localdate():%Y%m%d}.xlsx"
    assert f"filename*=utf-8''{quote(name)}" in response["Content-Disposition"]
    ws = openpyxl.load_workbook(io.BytesIO(content_of(response)))["绩效运行监控表"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert ws["A1"].value == "（2026年度）项目支出绩效运行监控表" and "A1:I1" in merged
    assert ws["A2"].value == "填报单位：青岛第二中学" and ws["G2"].value == "金额单位：万元"
    assert labelled(ws) == {
        "项目名称": "家庭经济困难学生资助",
        "项目编码": "EDU-2026-001",
        "主管部门": "青岛市教育局",
        "实施单位": "青岛第二中学",
        "数据截止日期": "2026年7月31日",
        "时间进度": 58.08,
        "年度预算（万元）": 300,
        "执行率": 40,
        "执行数（万元）": 120,
        "国库支付系统执行数（万元）": 118,
        "执行情况说明": None,
    }
    assert ws["C6"].number_format == "#,##0.00" and ws["H6"].number_format == '0.00"%"'
    assert {"A3:B3", "C3:E3", "F3:G3", "H3:I3", "C8:I8", "A9:I9"} <= merged
    assert [c.value for c in ws[10]] == [
        "一级指标", "二级指标", "三级指标", "年度指标值", "截至目前完成值", "全年预计完成值", "能否完成目标",
        "偏差原因", "纠偏措施",
    ]  # fmt: skip
    table = [[c.value for c in row] for row in ws.iter_rows(min_row=11, max_row=16)]
    assert table[0] == ["产出指标", "数量指标", "资助学生人数", "≥1200人", "1人", "1000人", "有可能", "经费保障",
                        "追加资金，加快发放进度"]  # fmt: skip
    assert table[1][:7] == [None, "质量指标", "义务教育巩固率", "≥99%", "1%", "99%", "确定能"]  # under A11:A13
    assert table[3][:4] == ["效益指标", "社会效益指标", "家庭经济困难学生资助覆盖率", "=100%"]
    assert table[4][2:7] == ["资助政策长效机制", "建立并有效运行", "按计划推进", None, "确定能"]
    assert table[5][:3] == ["满意度指标", "服务对象满意度指标", "受助学生满意度"]
    assert {"A11:A13", "A14:A15"} <= merged and not any(r.startswith("B1") and ":" in r for r in merged - {"B1"})
    assert ws.max_row == 16 and ws["I16"].border.left.style == "thin" and ws["A3"].border.top.style == "thin"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.print_title_rows == "$10:$10" and ws.column_dimensions["I"].width == 32
    event = AuditEvent.objects.get(kind="export")
    assert (event.actor, event.object_id, event.comment) == (world.edu_unit_filler, str(report.pk),
                                                             "导出绩效运行监控表（Excel）")  # fmt: skip


@pytest.mark.urls(URLS)
def test_report_export_before_anything_is_filled(world, year, approved, login):
    open_round(world, year)
    report = MonitoringReport.objects.get()
    response = login(world.perf_admin).get(reverse("monitoring:report_export_xlsx", args=[report.pk]))
    ws = openpyxl.load_workbook(io.BytesIO(content_of(response)))["绩效运行监控表"]
    values = labelled(ws)
    assert (values["执行数（万元）"], values["国库支付系统执行数（万元）"], values["执行率"]) == (
        "未填报",
        "未导入",
        "—",
    )
    assert ws["E11"].value is None and ws["G11"].value is None


@pytest.mark.urls(URLS)
def test_who_may_export_a_report(world, year, approved, login):
    open_round(world, year)
    report = MonitoringReport.objects.get()
    url = reverse("monitoring:report_export_xlsx", args=[report.pk])
    allowed = ("edu_unit_filler", "edu_filler", "edu_approver", "perf_admin", "sector_kjw", "npc_liaison", "auditor")
    for persona in allowed:
        assert login(getattr(world, persona)).get(url).status_code == 200, persona
    for persona in ("health_filler", "shinan_edu_filler", "shinan_finance"):  # another department, another district
        assert login(getattr(world, persona)).get(url).status_code == 404, persona
    for persona in ("sysadmin", "expert_li"):  # roles without monitoring.view
        assert login(getattr(world, persona)).get(url).status_code == 403, persona
    assert (
        login(world.perf_admin).get(reverse("monitoring:report_export_xlsx", args=[report.pk + 99])).status_code == 404
    )
    outsiders = [world.health_filler, world.shinan_edu_filler, world.shinan_finance, world.sysadmin, world.expert_li]
    assert not AuditEvent.objects.filter(kind="export", actor__in=outsiders).exists()


# --- the round's summary ---------------------------------------------------------------------


def sheets_of(response) -> dict[str, list[list]]:
    assert response.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(content_of(response)))
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}


@pytest.mark.urls(URLS)
def test_summary_export_by_department_with_totals(world, round_, year, login):
    approved_health_fund(world, year, "HEALTH-2026-001")
    open_round(world, year)
    first = MonitoringReport.objects.get(fund__code="EDU-2026-001")
    fill(world, first, expected_value="1000", likelihood="impossible", deviation_cause="funding",
         corrective_measure="追加资金")  # fmt: skip
    excel.execution_import(
        actor=world.perf_admin,
        round=round_,
        file=upload([["EDU-2026-001", 999], ["EDU-2026-002", 2400000], ["HEALTH-2026-001", 1500000]]),
    )
    fund = first.fund
    services.key_select(actor=world.perf_admin, funds=[fund], fiscal_year=year)
    services.key_measure(actor=world.perf_admin, key=KeyMonitoring.objects.get(fund=fund), measure="suspend",
                         reason="执行进度滞后")  # fmt: skip
    services.key_select(actor=world.perf_admin, funds=[MonitoringReport.objects.get(fund__code="EDU-2026-003").fund],
                        fiscal_year=year)  # fmt: skip
    response = login(world.perf_admin).get(reverse("monitoring:summary_export_xlsx", args=[round_.pk]))
    name = f"绩效运行监控汇总表-市本级-2026-{timezone.localdate():%Y%m%d}.xlsx"
    assert f"filename*=utf-8''{quote(name)}" in response["Content-Disposition"]
    sheets = sheets_of(response)
    assert list(sheets) == ["汇总", "青岛市教育局", "青岛市卫生健康委员会"]
    warnings = {
        item.report.fund.code: len(item.warnings)
        for item in selectors.warnings_for(MonitoringReport.objects.select_related("round", "fund"))
    }
    assert warnings["EDU-2026-001"] >= 2  # behind schedule and 完全不可能 (and overdue once past 15 August)
    edu = sheets["青岛市教育局"]
    assert edu[0] == [
        "项目编码",
        "项目名称",
        "年度预算（万元）",
        "执行数（万元）",
        "执行率（%）",
        "预警数",
        "重点监控措施",
    ]
    assert edu[1] == ["EDU-2026-001", "家庭经济困难学生资助", 300, 120, 40, warnings["EDU-2026-001"], "暂缓拨款"]
    assert edu[2] == ["EDU-2026-002", "家庭经济困难学生资助", 300, 240, 80, warnings["EDU-2026-002"], None]
    assert edu[3] == ["EDU-2026-003", "家庭经济困难学生资助", 300, None, None, warnings["EDU-2026-003"],
                      "已列入重点监控"]  # fmt: skip
    edu_warnings = sum(warnings[c] for c in CODES)
    assert edu[4] == ["合计", "3 个项目", 900, 360, 40, edu_warnings, None]
    health = sheets["青岛市卫生健康委员会"]
    assert health[1] == ["HEALTH-2026-001", "基层医疗服务", 300, 150, 50, warnings["HEALTH-2026-001"], None]
    summary = sheets["汇总"]
    assert summary[0][0] == "2026年绩效运行监控（数据截至7月31日）执行情况汇总"
    assert summary[1][0] == "青岛市财政局 · 数据截至2026年7月31日 · 时间进度 58.08% · 金额单位：万元"
    assert summary[2] == ["主管部门", "项目数", "年度预算（万元）", "执行数（万元）", "执行率（%）", "预警数"]
    assert summary[3] == ["青岛市教育局", 3, 900, 360, 40, edu_warnings]
    assert summary[4] == ["青岛市卫生健康委员会", 1, 300, 150, 50, warnings["HEALTH-2026-001"]]
    assert summary[5] == ["合计", 4, 1200, 510, 42.5, sum(warnings.values())]
    assert AuditEvent.objects.filter(kind="export", comment="导出绩效运行监控汇总表（Excel，4 个项目）").count() == 1


@pytest.mark.urls(URLS)
def test_summary_export_scope(world, round_, year, login):
    approved_health_fund(world, year, "HEALTH-2026-001")
    open_round(world, year)
    url = reverse("monitoring:summary_export_xlsx", args=[round_.pk])
    for persona in ("perf_admin", "sector_kjw", "npc_liaison", "auditor"):  # region readers: every report
        sheets = sheets_of(login(getattr(world, persona)).get(url))
        assert list(sheets) == ["汇总", "青岛市教育局", "青岛市卫生健康委员会"], persona
        assert sheets["汇总"][-1][:2] == ["合计", 4], persona
    for persona, department, funds in (
        ("edu_approver", "青岛市教育局", 3),
        ("health_filler", "青岛市卫生健康委员会", 1),
    ):
        sheets = sheets_of(login(getattr(world, persona)).get(url))  # a department: its own funds only
        assert list(sheets) == ["汇总", department] and sheets["汇总"][-1][:2] == ["合计", funds], persona
    assert login(world.shinan_finance).get(url).status_code == 404  # another district's round
    assert login(world.sysadmin).get(url).status_code == 403


@pytest.mark.urls(URLS)
def test_summary_export_runs_a_constant_number_of_queries(world, year, login):
    for code in CODES:
        approved_fund(world, year, code)
    round_ = open_round(world, year)[0]
    fill(world, MonitoringReport.objects.get(fund__code="EDU-2026-001"))
    client = login(world.perf_admin)
    url = reverse("monitoring:summary_export_xlsx", args=[round_.pk])

    def grow():
        for code in ("EDU-2026-004", "EDU-2026-005"):
            approved_fund(world, year, code)
        approved_health_fund(world, year, "HEALTH-2026-001")  # and a second department sheet
        open_round(world, year)
        fund = MonitoringReport.objects.get(fund__code="EDU-2026-004").fund
        services.key_select(actor=world.perf_admin, funds=[fund], fiscal_year=year)
        excel.execution_import(actor=world.perf_admin, round=round_, file=upload([["EDU-2026-005", 10]]))

    # session, user, roles, the round, the progress rows, the reports (with the key-monitoring
    # measure as a subquery), the audit row, and the session middleware's touch (savepoint,
    # update, release)
    assert_constant_queries(lambda: content_of(client.get(url)), grow, expected=10)
    assert MonitoringReport.objects.filter(round=round_).count() == 6
    assert sheets_of(client.get(url))["汇总"][-1][:2] == ["合计", 6]
