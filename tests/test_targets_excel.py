"""Excel for performance targets: the 申报表 export, the list export and the import (all or nothing)."""

import io
import zipfile
from decimal import Decimal
from urllib.parse import quote

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

import tests.test_targets_flow as flow
from apps.core.models import AuditEvent
from apps.indicators.models import LibraryIndicator
from apps.targets import excel, services
from apps.targets.models import PerformanceTarget
from tests.querycount import assert_constant_queries

ROWS = [
    {"level1": "output", "level2": "quantity", "name": "资助学生人数", "comparison": "ge", "value": "1200",
     "unit": "人", "weight": "20"},
    {"level1": "output", "level2": "quantity", "name": "资助学校数量", "comparison": "ge", "value": "35",
     "unit": "所", "weight": "10"},
    {"level1": "output", "level2": "quality", "name": "资助资金足额发放率", "comparison": "eq", "value": "100",
     "unit": "%", "weight": "10"},
    {"level1": "output", "level2": "timeliness", "name": "资金发放及时率", "comparison": "ge", "value": "95.5",
     "unit": "%", "weight": "10"},
    {"level1": "effect", "level2": "social", "name": "家庭经济困难学生辍学率", "comparison": "le", "value": "0.25",
     "unit": "%", "weight": "20"},
    {"level1": "effect", "level2": "sustainable", "name": "资助政策长效机制", "comparison": "qualitative",
     "value": "建立并有效运行", "unit": "", "weight": "10"},
    {"level1": "satisfaction", "level2": "service_satisfaction", "name": "受助学生满意度", "comparison": "ge",
     "value": "90", "unit": "%", "weight": "10"},
]  # fmt: skip
FIRST_DATA_ROW = 15  # title, 单位 line, 5 header rows, 3 money rows, 2 goals, section title, table header
ANNUAL_GOAL = "C12"


def make_fund(world, year, *, code="EDU-2026-001", org=None, actor=None):
    """The shared test fund, with 其他资金 in cents so the 万元 rounding shows."""
    return flow.make_fund(world, year, code=code, org=org, actor=actor, other_amount="123456.78")


def filed_target(world, fund, rows=ROWS):
    return flow.filed_target(world, fund, rows)


approve_all_the_way = flow.approve_all_the_way


@pytest.fixture
def target(world, year):
    return filed_target(world, make_fund(world, year))


def content_of(response) -> bytes:
    return b"".join(response.streaming_content)


def download(client, target) -> openpyxl.Workbook:
    response = client.get(reverse("targets:target_export_xlsx", args=[target.pk]))
    assert response.status_code == 200
    return openpyxl.load_workbook(io.BytesIO(content_of(response)))


def to_upload(wb, name="申报表.xlsx") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=excel.XLSX_CONTENT_TYPE)


def state(target):
    """Everything an import could change, to compare before and after."""
    target.refresh_from_db()
    rows = list(
        target.indicators.order_by("sort_order", "pk").values_list(
            "sort_order", "level1", "level2", "name", "comparison", "target_value", "target_text", "unit", "weight"
        )
    )
    return target.long_term_goal, target.annual_goal, target.updated_at, rows


def row_fields(target):
    return [
        (r.level1, r.level2, r.name, r.comparison, r.target_value, r.target_text, r.unit, r.weight, r.sort_order)
        for r in target.indicators.order_by("sort_order", "pk")
    ]


def labelled(ws) -> dict[str, object]:
    """Header block: label in column A (or C for the money rows) → the value next to it."""
    values = {}
    for row in range(3, FIRST_DATA_ROW):
        a, c, d = ws.cell(row, 1).value, ws.cell(row, 3).value, ws.cell(row, 4).value
        if c in ("年度资金总额", "其中：财政拨款", "其他资金"):
            values[c] = d
        elif a and a not in values:
            values[a] = c
    return values


# --- export of one target --------------------------------------------------------------------


def test_export_has_the_official_layout(world, target, login):
    client = login(world.edu_unit_filler)
    response = client.get(reverse("targets:target_export_xlsx", args=[target.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == excel.XLSX_CONTENT_TYPE
    filename = f"绩效目标申报表-EDU-2026-001-{timezone.localdate():%Y%m%d}.xlsx"
    assert f"filename*=utf-8''{quote(filename)}" in response["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(content_of(response)))
    ws = wb["绩效目标申报表"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert "A1:G1" in merged and ws["A1"].value == "（2026年度）项目支出绩效目标申报表"
    header = labelled(ws)
    assert header["项目名称"] == "家庭经济困难学生资助"
    assert header["项目编码"] == "EDU-2026-001"
    assert header["主管部门"] == "青岛市教育局"
    assert header["实施单位"] == "青岛第二中学"
    assert header["项目期限"] == "2026—2028年"
    assert (header["年度资金总额"], header["其中：财政拨款"], header["其他资金"]) == (312.35, 300, 12.35)
    assert ws["A8"].value == "资金情况（万元）" and "A8:B10" in merged and "C3:G3" in merged
    assert ws["D8"].number_format == "#,##0.00"
    assert header["中长期目标"] == "三年内资助全覆盖" and header["年度目标"] == "应助尽助"
    head = FIRST_DATA_ROW - 1
    assert [c.value for c in ws[head]] == ["一级指标", "二级指标", "三级指标", "比较方式", "指标值", "计量单位", "分值"]
    table = [[c.value for c in row] for row in ws.iter_rows(min_row=FIRST_DATA_ROW, max_col=7)]
    assert table == [
        ["产出指标", "数量指标", "资助学生人数", "≥", 1200, "人", 20],
        [None, None, "资助学校数量", "≥", 35, "所", 10],
        [None, "质量指标", "资助资金足额发放率", "=", 100, "%", 10],
        [None, "时效指标", "资金发放及时率", "≥", 95.5, "%", 10],
        ["效益指标", "社会效益指标", "家庭经济困难学生辍学率", "≤", 0.25, "%", 20],
        [None, "可持续影响指标", "资助政策长效机制", "定性", "建立并有效运行", None, 10],
        ["满意度指标", "服务对象满意度指标", "受助学生满意度", "≥", 90, "%", 10],
    ]
    r = FIRST_DATA_ROW
    assert {f"A{r}:A{r + 3}", f"B{r}:B{r + 1}", f"A{r + 4}:A{r + 5}"} <= merged
    cell = ws[f"C{r}"]
    assert cell.border.left.style == cell.border.bottom.style == "thin" and cell.alignment.wrap_text
    assert ws["C5"].border.top.style == "thin"
    assert ws.column_dimensions["C"].width >= 30 and ws.column_dimensions["B"].width >= 18
    assert ws.page_setup.paperSize == 9 and ws.page_setup.fitToWidth == 1
    assert ws.print_title_rows == f"${head}:${head}"
    assert list(wb.defined_names[excel.NAME_TABLE_HEADER].destinations) == [("绩效目标申报表", f"$A${head}:$G${head}")]
    event = AuditEvent.objects.for_object(target).get(kind="export")
    assert event.actor == world.edu_unit_filler


def test_department_target_has_tasks_and_department_name(world, year, login):
    target = services.department_target_start(actor=world.edu_filler, department=world.edu, fiscal_year=year)
    task = {"name": "学前教育普惠扩容", "amount": "25000000", "description": "新增学位"}
    services.target_save(actor=world.edu_filler, target=target, long_term_goal="办好人民满意的教育",
                         annual_goal="完成年度任务", rows=ROWS, tasks=[task])  # fmt: skip
    client = login(world.edu_filler)
    response = client.get(reverse("targets:target_export_xlsx", args=[target.pk]))
    assert f"{quote('部门整体绩效目标申报表-T-EDU-2026-')}" in response["Content-Disposition"]
    content = content_of(response)
    ws = openpyxl.load_workbook(io.BytesIO(content))["绩效目标申报表"]
    assert ws["A1"].value == "（2026年度）部门整体支出绩效目标申报表"
    header = labelled(ws)
    assert header["部门名称"] == "青岛市教育局" and header["年度资金总额"] == 2500
    cells = [[c.value for c in row] for row in ws.iter_rows(max_col=7)]
    task_section = cells.index(["年度主要任务", None, None, None, None, None, None])
    assert cells[task_section + 1] == ["序号", "任务名称", None, "金额（万元）", None, "说明", None]
    assert cells[task_section + 2] == [1, "学前教育普惠扩容", None, 2500, None, "新增学位", None]
    assert ["一级指标", "二级指标", "三级指标", "比较方式", "指标值", "计量单位", "分值"] in cells
    # the import finds the indicator table below the tasks and leaves the tasks alone
    before = row_fields(target)
    wb = openpyxl.load_workbook(io.BytesIO(content))
    excel.target_import(actor=world.edu_filler, target=target, upload=to_upload(wb))
    target.refresh_from_db()
    assert row_fields(target) == before
    assert list(target.tasks.values_list("name", "amount")) == [("学前教育普惠扩容", Decimal("25000000.00"))]


# --- import ----------------------------------------------------------------------------------


def test_round_trip_gives_the_same_rows(world, target, login):
    library = LibraryIndicator.objects.create(
        code="T-XLS-1", name="资助学生人数", level1="output", level2="quantity", sector="education", comparison="ge"
    )
    target.indicators.filter(sort_order=0).update(library_indicator=library)
    client = login(world.edu_unit_filler)
    before = row_fields(target)
    wb = download(client, target)
    response = client.post(reverse("targets:target_import", args=[target.pk]), {"file": to_upload(wb)})
    assert response.status_code == 302 and response["Location"] == reverse("targets:target_edit", args=[target.pk])
    target.refresh_from_db()
    assert row_fields(target) == before
    assert (target.long_term_goal, target.annual_goal) == ("三年内资助全覆盖", "应助尽助")
    assert target.indicators.get(sort_order=0).library_indicator == library  # the library link is kept


def test_import_changes_rows_and_goals(world, target, login):
    client = login(world.edu_unit_filler)
    wb = download(client, target)
    ws = wb["绩效目标申报表"]
    r = FIRST_DATA_ROW
    ws[f"E{r}"] = 1500
    ws[f"C{r + 1}"] = "资助学校数量（所）"
    ws.append(["满意度指标", "服务对象满意度指标", "家长满意度", "≥", 85, "%", 0])  # a row typed below the table
    header = labelled(ws)
    assert header["年度目标"] == "应助尽助"
    ws[ANNUAL_GOAL] = "应助尽助，精准资助"
    response = client.post(reverse("targets:target_import", args=[target.pk]), {"file": to_upload(wb)})
    assert response.status_code == 302
    target.refresh_from_db()
    rows = list(target.indicators.order_by("sort_order"))
    assert rows[0].target_value == Decimal("1500") and rows[1].name == "资助学校数量（所）"
    assert (rows[-1].name, rows[-1].level1, rows[-1].sort_order) == ("家长满意度", "satisfaction", 7)
    assert target.annual_goal == "应助尽助，精准资助"


def test_import_without_defined_names_finds_the_table_by_its_labels(world, target, login):
    client = login(world.edu_unit_filler)
    before = row_fields(target)
    wb = download(client, target)
    for name in list(wb.defined_names):
        del wb.defined_names[name]
    ws = wb["绩效目标申报表"]
    ws.title = "Sheet1"  # a copy pasted into another workbook
    assert excel.target_import(actor=world.edu_unit_filler, target=target, upload=to_upload(wb)) == len(ROWS)
    assert row_fields(target) == before


def _zip_of_text() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "不是工作簿")
    return buffer.getvalue()


def _edit(change):
    def build(wb):
        change(wb["绩效目标申报表"])
        return to_upload(wb)

    return build


def _clear_table(ws):
    for merged in [m for m in ws.merged_cells.ranges if m.min_row >= FIRST_DATA_ROW]:
        ws.unmerge_cells(str(merged))
    for row in ws.iter_rows(min_row=FIRST_DATA_ROW):
        for cell in row:
            cell.value = None


R = FIRST_DATA_ROW


def _many_bad_cells(ws):
    ws.cell(R, 5).value = "一千二"
    ws.cell(R + 1, 4).value = "大约"
    ws.cell(R + 6, 3).value = None
    ws.cell(R + 6, 7).value = 120


SHEET = "工作表“绩效目标申报表”"
BAD_FILES = {
    "csv": (
        lambda wb: SimpleUploadedFile("申报表.csv", "一级指标,二级指标\n".encode()),
        [excel.MSG_NOT_XLSX],
    ),
    "xls": (lambda wb: SimpleUploadedFile("申报表.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100), [excel.MSG_NOT_XLSX]),
    "renamed_text": (lambda wb: SimpleUploadedFile("申报表.xlsx", "一级指标".encode()), [excel.MSG_BAD_CONTENT]),
    "zip_not_workbook": (lambda wb: SimpleUploadedFile("申报表.xlsx", _zip_of_text()), [excel.MSG_BAD_CONTENT]),
    "too_big": (
        lambda wb: SimpleUploadedFile("申报表.xlsx", b"PK\x03\x04" + b"\0" * (11 * 1024 * 1024 - 4)),
        ["文件大小为 11.0 MB，超过 10 MB 的上限。"],
    ),
    "formula_value": (
        _edit(lambda ws: ws.cell(R, 5, "=1000+200")),
        [f"{SHEET}第 {R} 行 E 列（指标值）：单元格是公式“=1000+200”，请改为直接填写数值或文字（导入不计算公式）。"],
    ),
    "formula_goal": (
        _edit(lambda ws: ws.cell(12, 3, "=C11")),
        [f"{SHEET}第 12 行 C 列（年度目标）：单元格是公式“=C11”，请改为直接填写数值或文字（导入不计算公式）。"],
    ),
    "unknown_comparison": (
        _edit(lambda ws: ws.cell(R + 1, 4, "约等于")),
        [f"{SHEET}第 {R + 1} 行 D 列（比较方式）：比较方式只能是 ≥、≤、= 或 定性。"],
    ),
    "text_in_number": (
        _edit(lambda ws: ws.cell(R, 5, "一千二")),
        [f"{SHEET}第 {R} 行 E 列（指标值）：“一千二”不是数字。"],
    ),
    "text_in_weight": (
        _edit(lambda ws: ws.cell(R + 2, 7, "十分")),
        [f"{SHEET}第 {R + 2} 行 G 列（分值）：“十分”不是数字。"],
    ),
    "level2_not_under_level1": (
        _edit(lambda ws: ws.cell(R + 3, 2, "社会效益指标")),
        [f"{SHEET}第 {R + 3} 行 B 列（二级指标）：“社会效益指标”不属于“产出指标”。"],
    ),
    "empty_table": (_edit(_clear_table), [excel.MSG_EMPTY]),
    "no_table": (_edit(lambda ws: ws.delete_rows(R - 1, 20)), [excel.MSG_NO_TABLE]),
    "every_bad_cell_is_listed": (
        _edit(_many_bad_cells),
        [
            f"{SHEET}第 {R} 行 E 列（指标值）：“一千二”不是数字。",
            f"{SHEET}第 {R + 1} 行 D 列（比较方式）：比较方式只能是 ≥、≤、= 或 定性。",
            f"{SHEET}第 {R + 6} 行 C 列（三级指标）：请填写三级指标名称。",
            f"{SHEET}第 {R + 6} 行 G 列（分值）：分值应在 0 到 100 之间。",
        ],
    ),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_file_is_refused_with_every_reason_and_nothing_changes(world, target, login, case):
    client = login(world.edu_unit_filler)
    build, expected = BAD_FILES[case]
    upload = build(download(client, target))
    before, audit_rows = state(target), AuditEvent.objects.filter(kind="update").count()
    response = client.post(reverse("targets:target_import", args=[target.pk]), {"file": upload})
    assert response.status_code == 400
    shown = [*response.context["problems"], *map(str, response.context["cell_errors"])]
    assert shown == expected
    assert "未导入，数据没有任何改动" in response.content.decode()
    assert state(target) == before and AuditEvent.objects.filter(kind="update").count() == audit_rows


def test_missing_file_is_refused(world, target, login):
    response = login(world.edu_unit_filler).post(reverse("targets:target_import", args=[target.pk]), {})
    assert response.status_code == 400 and response.context["problems"] == [excel.MSG_NO_FILE]


def test_approved_target_refuses_import(world, target, login):
    client = login(world.edu_unit_filler)
    wb = download(client, target)
    approve_all_the_way(world, target)
    before = state(target)
    url = reverse("targets:target_import", args=[target.pk])
    page = client.get(url)
    assert (
        page.status_code == 200
        and "不能导入" in page.content.decode()
        and 'id="import-form"' not in page.content.decode()
    )
    response = client.post(url, {"file": to_upload(wb)})
    assert response.status_code == 400
    assert "绩效目标当前状态为“已批复”，不能导入。已批复的目标请先“调整”生成新版本" in response.content.decode()
    assert state(target) == before


def test_returned_target_accepts_import(world, target, login):
    client = login(world.edu_unit_filler)
    wb = download(client, target)
    services.target_send(actor=world.edu_unit_filler, target=target)
    services.target_submit(actor=world.edu_approver, target=target)
    services.target_return(actor=world.sector_kjw, target=target, comment="请细化")
    wb["绩效目标申报表"].cell(FIRST_DATA_ROW, 5, 1300)
    response = client.post(reverse("targets:target_import", args=[target.pk]), {"file": to_upload(wb)})
    assert response.status_code == 302
    assert target.indicators.get(sort_order=0).target_value == Decimal("1300")


# --- who may ---------------------------------------------------------------------------------


def test_who_may_export_and_import(world, target, login):
    export = reverse("targets:target_export_xlsx", args=[target.pk])
    imports = reverse("targets:target_import", args=[target.pk])
    for persona in ("edu_unit_filler", "edu_filler", "edu_approver", "perf_admin", "sector_kjw", "npc_liaison"):
        assert login(getattr(world, persona)).get(export).status_code == 200, persona
    for persona in ("edu_unit_filler", "edu_approver"):
        assert login(getattr(world, persona)).get(imports).status_code == 200, persona
    before = state(target)
    wb = download(login(world.edu_unit_filler), target)
    wb["绩效目标申报表"].cell(FIRST_DATA_ROW, 5, 9999)
    for persona in ("health_filler", "shinan_edu_filler"):  # another department, another district
        client = login(getattr(world, persona))
        assert client.get(export).status_code == 404, persona
        assert client.get(imports).status_code == 404, persona
        assert client.post(imports, {"file": to_upload(wb)}).status_code == 404, persona
    for persona in ("sysadmin", "perf_admin", "npc_liaison"):  # wrong role for importing
        client = login(getattr(world, persona))
        assert client.get(imports).status_code == 403, persona
        assert client.post(imports, {"file": to_upload(wb)}).status_code == 403, persona
    sysadmin = login(world.sysadmin)
    assert sysadmin.get(export).status_code == 403
    assert sysadmin.get(reverse("targets:target_list_xlsx")).status_code == 403
    assert state(target) == before
    assert not AuditEvent.objects.filter(kind="export", actor__in=[world.health_filler, world.sysadmin]).exists()


def test_detail_page_shows_the_buttons(world, target, login):
    page = login(world.edu_unit_filler).get(reverse("targets:target_detail", args=[target.pk])).content.decode()
    assert 'id="target-export-xlsx"' in page and 'id="target-import-xlsx"' in page
    page = login(world.perf_admin).get(reverse("targets:target_detail", args=[target.pk])).content.decode()
    assert 'id="target-export-xlsx"' in page and 'id="target-import-xlsx"' not in page
    assert 'id="target-list-xlsx"' in login(world.perf_admin).get(reverse("targets:target_list")).content.decode()


# --- export of the list ----------------------------------------------------------------------


def list_sheet(response):
    assert response.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(content_of(response)))["绩效目标清单"]
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_list_export_one_row_per_indicator(world, target, year, login):
    other = filed_target(world, make_fund(world, year, code="EDU-2026-002"), rows=ROWS[:2])
    approve_all_the_way(world, other)
    empty = services.target_start(actor=world.edu_unit_filler, fund=make_fund(world, year, code="EDU-2026-003"))
    client = login(world.perf_admin)
    response = client.get(reverse("targets:target_list_xlsx"))
    assert f"filename*=utf-8''{quote('绩效目标清单-2026-')}" in response["Content-Disposition"]
    rows = list_sheet(response)
    assert rows[0] == [label for label, _ in excel.LIST_HEADERS] == [
        "项目编码", "项目名称", "主管部门", "实施单位", "版本", "状态",
        "一级指标", "二级指标", "三级指标", "比较方式", "指标值", "计量单位", "分值",
    ]  # fmt: skip
    assert len(rows) == 1 + len(ROWS) + 2 + 1
    assert rows[1] == ["EDU-2026-001", "家庭经济困难学生资助", "青岛市教育局", "青岛第二中学", 1, "草稿",
                       "产出指标", "数量指标", "资助学生人数", "≥", 1200, "人", 20]  # fmt: skip
    assert rows[6][9:] == ["定性", "建立并有效运行", None, 10]
    assert rows[8][:6] == ["EDU-2026-002", "家庭经济困难学生资助", "青岛市教育局", "青岛第二中学", 1, "已批复"]
    assert rows[10][0] == "EDU-2026-003" and rows[10][6:] == [None] * 7
    approved = list_sheet(client.get(reverse("targets:target_list_xlsx") + "?status=approved"))
    assert [r[0] for r in approved[1:]] == ["EDU-2026-002", "EDU-2026-002"]
    assert empty.pk and AuditEvent.objects.filter(kind="export", actor=world.perf_admin).count() == 2
    # another district's finance sees none of 教育局's targets; 卫生健康委 neither
    assert list_sheet(login(world.shinan_finance).get(reverse("targets:target_list_xlsx")))[1:] == []
    assert list_sheet(login(world.health_filler).get(reverse("targets:target_list_xlsx")))[1:] == []


def test_list_export_department_target_row(world, year, login):
    target = services.department_target_start(actor=world.edu_filler, department=world.edu, fiscal_year=year)
    services.target_save(actor=world.edu_filler, target=target, long_term_goal="", annual_goal="x", rows=ROWS[:1])
    rows = list_sheet(login(world.edu_filler).get(reverse("targets:target_list_xlsx")))
    assert rows[1][:6] == [None, "青岛市教育局部门整体", "青岛市教育局", "青岛市教育局", 1, "草稿"]


def test_list_export_runs_a_constant_number_of_queries(world, year, login):
    for i in range(3):
        filed_target(world, make_fund(world, year, code=f"EDU-2026-{i:03d}"))
    client = login(world.perf_admin)
    url = reverse("targets:target_list_xlsx")

    def grow():
        for i in range(3, 6):
            target = filed_target(world, make_fund(world, year, code=f"EDU-2026-{i:03d}"))
            if i == 5:
                approve_all_the_way(world, target)

    # session, user, roles, fiscal years, the one SELECT of rows, the audit row, and the session
    # middleware's touch (savepoint, update, release)
    assert_constant_queries(lambda: content_of(client.get(url)), grow, expected=9)
    assert len(list_sheet(client.get(url))) == 1 + 6 * len(ROWS)


def test_list_export_data_is_never_a_formula(world, year, login):
    filed_target(world, make_fund(world, year), rows=[dict(ROWS[0], name='=HYPERLINK("http://x")')])
    content = content_of(login(world.perf_admin).get(reverse("targets:target_list_xlsx")))
    ws = openpyxl.load_workbook(io.BytesIO(content))["绩效目标清单"]
    assert ws["I2"].value == '=HYPERLINK("http://x")' and ws["I2"].data_type == "s"
    assert PerformanceTarget.objects.count() == 1
