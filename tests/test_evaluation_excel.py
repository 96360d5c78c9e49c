"""Excel for 单位自评: the 绩效自评表 of one evaluation, the import of actual values (template,
round trip, all or nothing, bad files, who may), and the summaries by department and grade."""

import io
from decimal import Decimal
from urllib.parse import quote

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from apps.accounts.roles import Role
from apps.core.models import AuditEvent
from apps.evaluations import excel, services
from apps.evaluations.models import SelfEvaluation, SelfEvaluationAdjustment, SelfEvaluationLine, SelfEvaluationRound
from apps.targets import services as target_services
from tests import test_scoring_rules_page as rules_tests
from tests.factories import UserFactory
from tests.querycount import assert_constant_queries
from tests.test_targets_flow import GOOD_ROWS, make_fund

entries_for, fill, fund_2025, open_round = (
    rules_tests.entries_for, rules_tests.fill, rules_tests.fund_2025, rules_tests.open_round,
)  # fmt: skip
year2025, year_session, signed_in = rules_tests.year2025, rules_tests.year_session, rules_tests.signed_in  # fixtures

TEMPLATE = "/evaluations/excel/import/template/"
IMPORT = "/evaluations/excel/import/"
SUMMARY = "/evaluations/summary/"
TIMELY = "资金发放及时率"  # ≥ 95 %, 分值 15
MECHANISM = "资助政策长效机制"  # 定性, 分值 10
STUDENTS = "资助学生人数"  # ≥ 1200 人, 分值 20


def content_of(response) -> bytes:
    return b"".join(response.streaming_content)


def workbook_of(response):
    assert response.status_code == 200, response.status_code
    return openpyxl.load_workbook(io.BytesIO(content_of(response)))


def to_upload(wb, name="单位自评.xlsx") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=excel.XLSX_CONTENT_TYPE)


def find(ws, text):
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == text:
                return cell
    raise AssertionError(f"{text!r} not in sheet")


def right_of(ws, text, steps=2):
    cell = find(ws, text)
    return ws.cell(cell.row, cell.column + steps).value


@pytest.fixture
def evaluations(world, year2025):
    """Two 2025 funds of 青岛第二中学 (教育局) with their self-evaluations, nothing filled in yet."""
    fund_2025(world, year2025)
    fund_2025(world, year2025, code="EDU-2025-002", name="校舍维修改造")
    open_round(world, year2025)
    return list(SelfEvaluation.objects.order_by("fund__code"))


def health_evaluation(world, year2025):
    """A 2025 self-evaluation of 卫生健康委's unit (another department)."""
    approver = UserFactory(username="health_approver", organization=world.health, roles=[Role.DEPT_APPROVER])
    reviewer = UserFactory(username="sector_sb", organization=world.kjw_division, roles=[Role.FINANCE_SECTOR])
    reviewer.assigned_departments.set([world.health])
    fund = make_fund(world, year2025, code="HEALTH-2025-001", org=world.health_unit, actor=world.health_filler,
                     name="基层医疗服务能力提升")  # fmt: skip
    target = target_services.target_start(actor=world.health_filler, fund=fund)
    target_services.target_save(actor=world.health_filler, target=target, long_term_goal="提升基层医疗",
                                annual_goal="完成年度任务", rows=GOOD_ROWS)  # fmt: skip
    target_services.target_send(actor=world.health_filler, target=target)
    target_services.target_submit(actor=approver, target=target)
    target_services.target_pass(actor=reviewer, target=target)
    target_services.target_approve(actor=world.perf_admin, target=target)
    open_round(world, year2025)
    return SelfEvaluation.objects.get(fund=fund)


def state():
    """Everything an import could change."""
    return (
        list(
            SelfEvaluation.objects.order_by("pk").values_list(
                "pk", "executed_amount", "execution_reason", "summary", "score", "grade", "updated_at"
            )
        ),
        list(
            SelfEvaluationLine.objects.order_by("pk").values_list(
                "pk", "actual_value", "band", "band_percent", "actual_text", "shortfall_reason", "points"
            )
        ),
        AuditEvent.objects.filter(kind="update").count(),
    )


# --- the 绩效自评表 -----------------------------------------------------------------------------


def test_self_form_in_the_usual_layout(world, signed_in, evaluations):
    evaluation = evaluations[0]
    fill(world, evaluation, executed="2700000", **{TIMELY: {"actual_value": "90", "shortfall_reason": "名单延迟报送",
                                                            "improvement_measure": "提前核对名单"}})  # fmt: skip
    SelfEvaluation.objects.filter(pk=evaluation.pk).update(summary="按计划完成资助任务。")
    response = signed_in(world.edu_unit_filler).get(reverse("evaluations:excel_self_form", args=[evaluation.pk]))
    name = f"绩效自评表-EDU-2025-001-2025-{timezone.localdate():%Y%m%d}.xlsx"
    assert f"filename*=utf-8''{quote(name)}" in response["Content-Disposition"]
    ws = workbook_of(response)["绩效自评表"]
    assert ws["A1"].value == "项目支出绩效自评表（2025年度）"
    assert ws["A2"].value == "填报单位：青岛第二中学" and ws["F2"].value == "金额单位：万元"
    assert right_of(ws, "项目名称") == "家庭经济困难学生资助" and right_of(ws, "主管部门") == "青岛市教育局"
    assert right_of(ws, "实施单位") == "青岛第二中学" and right_of(ws, "项目编码") == "EDU-2025-001"
    header = find(ws, "年初预算数")
    labels = [ws.cell(header.row, c).value for c in range(3, 9)]
    assert labels == ["年初预算数", "全年预算数（调整后）", "全年执行数", "分值", "执行率", "得分"]
    values = [ws.cell(header.row + 1, c).value for c in range(3, 9)]
    assert values == [300, 300, 270, 10, 90, 9]
    assert right_of(ws, "预期目标", 0) == "预期目标" and ws.cell(find(ws, "预期目标").row + 1, 3).value == "应助尽助"
    assert ws.cell(find(ws, "实际完成情况").row + 1, 6).value == "按计划完成资助任务。"
    table = find(ws, "一级指标")
    assert [ws.cell(table.row, c).value for c in range(1, 9)] == [
        "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施",
    ]  # fmt: skip
    rows = {
        ws.cell(r, 3).value: [ws.cell(r, c).value for c in range(4, 9)] for r in range(table.row + 1, table.row + 7)
    }
    assert rows[TIMELY] == ["≥95%", "90%", 15, 14.21, "偏差原因：名单延迟报送\n改进措施：提前核对名单"]
    assert rows[STUDENTS] == ["≥1200人", "1200人", 20, 20, None]
    assert rows[MECHANISM] == ["建立并有效运行", "已建立（达成 90%）", 10, 9, "定性指标评定为达成（90%）"]
    assert ws.cell(table.row + 1, 1).value == "产出指标" and f"A{table.row + 1}:A{table.row + 3}" in ws.merged_cells
    total = find(ws, "总分")
    evaluation.refresh_from_db()
    assert ws.cell(total.row, 6).value == 100 and Decimal(str(ws.cell(total.row, 7).value)) == evaluation.score
    assert ws.cell(total.row, 8).value == f"自评等级：{evaluation.get_grade_display()}"
    assert ws.print_title_rows == f"${table.row}:${table.row}" and ws.page_setup.orientation == "landscape"
    event = AuditEvent.objects.get(kind="export")
    assert event.object_id == str(evaluation.pk) and event.actor == world.edu_unit_filler


def test_self_form_shows_missing_values_and_finance_adjustment(world, signed_in, evaluations):
    evaluation = evaluations[0]
    services.evaluation_save(actor=world.edu_unit_filler, evaluation=evaluation, executed_amount="",
                             entries={})  # fmt: skip
    SelfEvaluation.objects.filter(pk=evaluation.pk).update(status="confirmed", adjusted_score=Decimal("65"),
                                                           adjusted_grade="fair")  # fmt: skip
    SelfEvaluationAdjustment.objects.create(
        evaluation=evaluation, previous_score=Decimal("0"), new_score=Decimal("65"), new_grade="fair",
        reason="抽查核实后调整", adjusted_by=world.perf_admin,
    )  # fmt: skip
    ws = workbook_of(signed_in(world.perf_admin).get(reverse("evaluations:excel_self_form", args=[evaluation.pk])))[
        "绩效自评表"
    ]
    header = find(ws, "年初预算数")
    assert ws.cell(header.row + 1, 5).value == "未填写" and ws.cell(header.row + 1, 7).value == "—"
    assert "尚未填写实际完成情况（按 0 分计）：预算执行率、资助学生人数" in right_of(ws, "计分说明")
    adjustment = right_of(ws, "财政调整")
    assert adjustment.startswith("调整后得分 65.00（中），调整前得分 0.00。调整理由：抽查核实后调整")
    assert right_of(ws, "最终得分") == "65.00 分，等级：中（财政调整）"


@pytest.mark.parametrize(("persona", "status"), [("shinan_finance", 404), ("health_filler", 404), ("sysadmin", 403),
                                                 ("expert_li", 403)])  # fmt: skip
def test_self_form_outside_scope(world, signed_in, evaluations, persona, status):
    url = reverse("evaluations:excel_self_form", args=[evaluations[0].pk])
    assert signed_in(getattr(world, persona)).get(url).status_code == status
    assert not AuditEvent.objects.filter(kind="export").exists()


@pytest.mark.parametrize("persona", ["perf_admin", "npc_liaison", "auditor", "edu_approver"])
def test_self_form_for_readers(world, signed_in, evaluations, persona):
    url = reverse("evaluations:excel_self_form", args=[evaluations[0].pk])
    assert signed_in(getattr(world, persona)).get(url).status_code == 200


# --- the import template --------------------------------------------------------------------------


def test_template_lists_the_editable_evaluations_with_their_values(world, signed_in, evaluations, year2025):
    fill(world, evaluations[0], executed="2700000", **{MECHANISM: {"band": "partial", "band_percent": "70"}})
    health = health_evaluation(world, year2025)
    response = signed_in(world.edu_unit_filler).get(TEMPLATE)
    name = f"单位自评导入模板-青岛第二中学-2025-{timezone.localdate():%Y%m%d}.xlsx"
    assert f"filename*=utf-8''{quote(name)}" in response["Content-Disposition"]
    wb = workbook_of(response)
    assert wb.sheetnames == ["预算执行", "指标完成情况"]
    ws = wb["预算执行"]
    assert [c.value for c in ws[2]] == [label for _, label, _ in excel.EXECUTION_COLUMNS]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=3)]
    assert [r[:2] for r in rows] == [[evaluations[0].pk, "EDU-2025-001"], [evaluations[1].pk, "EDU-2025-002"]]
    assert rows[0][4:6] == [300, 270] and rows[1][5] is None
    assert ws.column_dimensions["A"].hidden and ws.protection.sheet
    lines = wb["指标完成情况"]
    assert lines.column_dimensions["A"].hidden and lines.column_dimensions["B"].hidden
    line_rows = [[c.value for c in row] for row in lines.iter_rows(min_row=3)]
    assert len(line_rows) == 12 and {r[0] for r in line_rows} == {e.pk for e in evaluations}
    mechanism = next(r for r in line_rows if r[0] == evaluations[0].pk and r[6] == MECHANISM)
    assert mechanism[7:] == ["建立并有效运行", None, None, "部分达成", 70, "已建立", None, None]
    students = next(r for r in line_rows if r[0] == evaluations[0].pk and r[6] == STUDENTS)
    assert students[7:10] == ["≥1200人", "人", 1200]
    assert health.pk not in {r[0] for r in line_rows}
    event = AuditEvent.objects.get(kind="export")
    assert event.comment == "下载单位自评导入模板（2025年度，2 个项目）"


def test_template_leaves_out_what_may_not_be_edited(world, signed_in, evaluations):
    SelfEvaluation.objects.filter(pk=evaluations[0].pk).update(status="dept_review")
    wb = workbook_of(signed_in(world.edu_filler).get(TEMPLATE))  # the department sees its unit's funds
    assert [r[1].value for r in wb["预算执行"].iter_rows(min_row=3)] == ["EDU-2025-002"]
    SelfEvaluationRound.objects.update(status="closed")
    assert wb_rows(signed_in(world.edu_filler).get(TEMPLATE)) == []


def wb_rows(response):
    return list(workbook_of(response)["预算执行"].iter_rows(min_row=3))


def test_template_takes_constant_queries(world, signed_in, evaluations, year2025):
    client = signed_in(world.edu_filler)
    n = [2]

    def grow():
        for _ in range(2):
            n[0] += 1
            fund_2025(world, year2025, code=f"EDU-2025-{n[0]:03d}")
        open_round(world, year2025)

    def fetch():
        assert client.get(TEMPLATE).status_code == 200

    assert_constant_queries(fetch, grow, expected=TEMPLATE_QUERIES)


TEMPLATE_QUERIES = 10


# --- the import: round trip -----------------------------------------------------------------------


def fill_sheet(wb, values_by_code: dict[str, dict]):
    """Type into the template: per fund code, ``executed`` (万元) and indicator name → column → value."""
    ws = wb["预算执行"]
    for row in ws.iter_rows(min_row=3):
        values = values_by_code.get(row[1].value, {})
        for key in ("executed", "execution_reason", "execution_measure", "summary"):
            if key in values:
                row[[k for k, _, _ in excel.EXECUTION_COLUMNS].index(key)].value = values[key]
    keys = [k for k, _, _ in excel.LINE_COLUMNS]
    for row in wb["指标完成情况"].iter_rows(min_row=3):
        for column, value in values_by_code.get(row[2].value, {}).get(row[6].value, {}).items():
            row[keys.index(column)].value = value
    return wb


ROUND_TRIP = {
    "executed": 270,
    "execution_reason": "部分合同尾款未到支付节点",
    "execution_measure": "验收后及时支付",
    "summary": "全年资助学生 1180 人。",
    STUDENTS: {"actual_value": 1180, "shortfall_reason": "部分学生转学", "improvement_measure": "动态核对名单"},
    "义务教育巩固率": {"actual_value": 99.5},
    TIMELY: {"actual_value": "90.5", "shortfall_reason": "名单延迟报送", "improvement_measure": "提前核对"},
    "家庭经济困难学生资助覆盖率": {"actual_value": 100},
    MECHANISM: {
        "band": "部分达成",
        "band_percent": 75,
        "actual_text": "制度试行中",
        "shortfall_reason": "制度尚在试行",
        "improvement_measure": "年内正式印发",
    },  # fmt: skip
    "受助学生满意度": {"actual_value": 96},
}


def test_round_trip_gives_the_forms_scores(world, signed_in, evaluations):
    """Template → typed in Excel → import equals typing the same values into the form."""
    by_excel, by_form = evaluations
    client = signed_in(world.edu_unit_filler)
    wb = fill_sheet(workbook_of(client.get(TEMPLATE)), {"EDU-2025-001": ROUND_TRIP})
    response = client.post(IMPORT, {"file": to_upload(wb)})
    assert response.status_code == 302 and response["Location"] == IMPORT
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["已导入 2 个项目的单位自评（12 项指标），得分已按计分规则重新计算。"]
    # the same values through the form's service
    entries = entries_for(by_form)
    for line in by_form.lines.select_related("indicator"):
        typed = ROUND_TRIP.get(line.indicator.name, {})
        entry = entries[line.pk]
        entry.actual_value = str(typed.get("actual_value", entry.actual_value))
        entry.band = {"部分达成": "partial"}.get(typed.get("band"), entry.band)
        entry.band_percent = str(typed.get("band_percent", entry.band_percent))
        entry.actual_text = typed.get("actual_text", entry.actual_text)
        entry.shortfall_reason = typed.get("shortfall_reason", "")
        entry.improvement_measure = typed.get("improvement_measure", "")
    services.evaluation_save(actor=world.edu_unit_filler, evaluation=by_form, executed_amount="2700000",
                             entries=entries, execution_reason="部分合同尾款未到支付节点",
                             execution_measure="验收后及时支付", summary="全年资助学生 1180 人。")  # fmt: skip
    by_excel.refresh_from_db()
    by_form.refresh_from_db()
    assert by_excel.score == by_form.score and by_excel.grade == by_form.grade and by_excel.score < 100
    fields = ("executed_amount", "execution_reason", "execution_measure", "summary")
    assert [getattr(by_excel, f) for f in fields] == [getattr(by_form, f) for f in fields]
    line_fields = ("indicator__name", "actual_value", "actual_text", "band", "band_percent", "shortfall_reason",
                   "improvement_measure", "points")  # fmt: skip
    excel_lines = list(by_excel.lines.order_by("indicator__sort_order").values_list(*line_fields))
    form_lines = list(by_form.lines.order_by("indicator__sort_order").values_list(*line_fields))
    assert excel_lines == form_lines
    # the other fund was in the file untouched: it keeps its (empty) values, scored as such
    assert SelfEvaluation.objects.get(pk=by_form.pk).updated_by == world.edu_unit_filler
    events = AuditEvent.objects.filter(kind="update", comment__startswith="Excel 导入单位自评")
    assert events.count() == 2
    event = events.get(object_id=str(by_excel.pk))
    assert event.changes["executed_amount"] == {"from": None, "to": "2700000.00"}
    assert event.actor == world.edu_unit_filler


def test_rows_may_be_deleted_and_only_the_listed_funds_change(world, signed_in, evaluations):
    fill(world, evaluations[1], executed="100000")
    before = SelfEvaluation.objects.get(pk=evaluations[1].pk)
    client = signed_in(world.edu_unit_filler)
    wb = fill_sheet(workbook_of(client.get(TEMPLATE)), {"EDU-2025-001": ROUND_TRIP})
    for title in ("预算执行", "指标完成情况"):
        ws = wb[title]
        code_column = 2 if title == "预算执行" else 3
        for r in range(ws.max_row, 2, -1):
            if ws.cell(r, code_column).value == "EDU-2025-002":
                ws.delete_rows(r)
    summary = excel.fill_import(actor=world.edu_unit_filler, upload=to_upload(wb))
    assert (summary.evaluations, summary.lines) == (1, 6)
    after = SelfEvaluation.objects.get(pk=evaluations[1].pk)
    assert (after.score, after.updated_at) == (before.score, before.updated_at)


# --- the import: everything checked, nothing written on any error ---------------------------------


def template(world, signed_in, **kwargs):
    return workbook_of(signed_in(kwargs.get("user", world.edu_unit_filler)).get(TEMPLATE))


def refused(world, wb, name="单位自评.xlsx", user=None):
    before = state()
    with pytest.raises(excel.ImportRefused) as exc:
        excel.fill_import(actor=user or world.edu_unit_filler, upload=to_upload(wb, name) if wb else None)
    assert state() == before
    return exc.value


def cell(wb, sheet, code, indicator, column):
    """The cell of ``column`` (key) in the row of fund ``code`` (and indicator name on the lines sheet)."""
    ws = wb[sheet]
    columns = excel.EXECUTION_COLUMNS if sheet == "预算执行" else excel.LINE_COLUMNS
    keys = [k for k, _, _ in columns]
    for row in ws.iter_rows(min_row=3):
        if row[keys.index("code")].value == code and (indicator is None or row[keys.index("name")].value == indicator):
            return row[keys.index(column)]
    raise AssertionError((code, indicator))


def test_every_bad_cell_is_listed_and_nothing_changes(world, signed_in, evaluations):
    wb = fill_sheet(template(world, signed_in), {"EDU-2025-001": ROUND_TRIP, "EDU-2025-002": ROUND_TRIP})
    cell(wb, "预算执行", "EDU-2025-001", None, "executed").value = "二百七十"
    cell(wb, "预算执行", "EDU-2025-002", None, "executed").value = -1
    cell(wb, "指标完成情况", "EDU-2025-001", STUDENTS, "actual_value").value = "一千"
    cell(wb, "指标完成情况", "EDU-2025-001", TIMELY, "actual_value").value = -3
    cell(wb, "指标完成情况", "EDU-2025-002", MECHANISM, "band_percent").value = 85
    cell(wb, "指标完成情况", "EDU-2025-002", "受助学生满意度", "band").value = "达成"
    cell(wb, "指标完成情况", "EDU-2025-002", "义务教育巩固率", "actual_value").value = "=A1*2"
    error = refused(world, wb)
    assert error.problems == []
    messages = [str(e) for e in error.cell_errors]
    executed = excel.EXECUTION_LETTERS["executed"]
    assert messages[:2] == [
        f"工作表“预算执行”第 3 行 {executed} 列（全年执行数（万元））：全年执行数“二百七十”不是数字。",
        f"工作表“预算执行”第 4 行 {executed} 列（全年执行数（万元））：全年执行数不能为负数。",
    ]
    rest = "\n".join(messages[2:])
    assert "J 列（实际完成值）：第 1 项指标“资助学生人数”的实际完成值必须是数字。" in rest
    assert "J 列（实际完成值）：第 3 项指标“资金发放及时率”的实际完成值不能为负数。" in rest
    assert "L 列（得分比例（%））：第 5 项指标“资助政策长效机制”的得分比例应在部分达成区间 [60, 80) 内。" in rest
    assert "K 列（完成程度）：该指标为定量指标，请在“实际完成值”列填写，本列不要填写。" in rest
    assert "J 列（实际完成值）：单元格是公式“=A1*2”" in rest
    assert len(messages) == 7


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("band_label", "完成程度“差不多”无效，只能填写“达成”“部分达成”或“未达成”。"),
        ("value_in_qualitative", "该指标为定性指标，请填写完成程度和得分比例，本列不要填写。"),
        ("tampered_id", "自评编号 999999 不存在或不在您的填报范围内。"),
        ("tampered_line", "不属于该项目的自评表"),
        ("bad_id_text", "隐藏的编号无效"),
        ("code_mismatch", "项目编码“EDU-2025-002”与隐藏的自评编号不一致（应为“EDU-2025-001”）"),
        ("duplicate_line", "该指标在第 3 行已出现，每项指标只能有一行。"),
    ],
)
def test_bad_cells(world, signed_in, evaluations, change, expected):
    wb = fill_sheet(template(world, signed_in), {"EDU-2025-001": ROUND_TRIP})
    lines = wb["指标完成情况"]
    if change == "band_label":
        cell(wb, "指标完成情况", "EDU-2025-001", MECHANISM, "band").value = "差不多"
    elif change == "value_in_qualitative":
        cell(wb, "指标完成情况", "EDU-2025-001", MECHANISM, "actual_value").value = 3
    elif change == "tampered_id":
        lines["A3"].value = 999999
    elif change == "tampered_line":
        lines["B3"].value = lines["B9"].value  # a line of the other fund
    elif change == "bad_id_text":
        wb["预算执行"]["A3"].value = "abc"
    elif change == "code_mismatch":
        lines["C3"].value = "EDU-2025-002"
    elif change == "duplicate_line":
        lines.append([c.value for c in lines[3]])
    error = refused(world, wb)
    assert any(expected in str(e) for e in error.cell_errors), [str(e) for e in error.cell_errors]


def test_another_units_ids_are_refused(world, signed_in, evaluations, year2025):
    """health_filler uploads 教育局's template: every id is outside its scope, nothing changes."""
    health_evaluation(world, year2025)
    wb = fill_sheet(template(world, signed_in), {"EDU-2025-001": ROUND_TRIP})
    error = refused(world, wb, user=world.health_filler)
    assert {e.message for e in error.cell_errors} == {
        f"自评编号 {pk} 不存在或不在您的填报范围内。{excel.MSG_BAD_ID}" for pk in (e.pk for e in evaluations)
    }


def test_evaluations_that_may_not_be_edited_are_named(world, signed_in, evaluations):
    wb = fill_sheet(template(world, signed_in), {"EDU-2025-001": ROUND_TRIP})
    SelfEvaluation.objects.filter(pk=evaluations[0].pk).update(status="submitted")
    error = refused(world, wb)
    assert error.problems == [
        "“家庭经济困难学生资助”（EDU-2025-001）的单位自评当前状态为“待财政审核”，不能导入修改；"
        "请从文件中删除该项目的行，或先请审核人退回。"
    ]
    SelfEvaluation.objects.filter(pk=evaluations[0].pk).update(status="returned")
    SelfEvaluationRound.objects.update(status="closed")
    assert "所属自评批次已结束" in refused(world, wb).problems[0]


@pytest.mark.parametrize(
    ("make", "name", "expected"),
    [
        (None, "单位自评.xlsx", excel.MSG_NO_FILE),
        ("xls", "单位自评.xls", excel.MSG_NOT_XLSX),
        ("garbage", "单位自评.xlsx", excel.MSG_BAD_CONTENT),
        ("no_sheets", "单位自评.xlsx", excel.MSG_NO_SHEETS),
        ("one_sheet", "单位自评.xlsx", "找不到工作表“预算执行”"),
        (
            "headers",
            "单位自评.xlsx",
            "工作表“指标完成情况”第 2 行的表头与模板不一致：J 列应为“实际完成值”，实际为“完成值”",
        ),
        ("empty", "单位自评.xlsx", excel.MSG_EMPTY),
    ],
)
def test_bad_files_get_a_clean_message(world, signed_in, evaluations, make, name, expected):
    before = state()
    if make is None:
        upload = None
    elif make in ("xls", "garbage"):
        upload = SimpleUploadedFile(name, b"not a workbook at all", content_type="application/octet-stream")
    else:
        wb = template(world, signed_in)
        if make == "no_sheets":
            wb = openpyxl.Workbook()
            wb.active.append(["自评编号", "实际完成值"])
        elif make == "one_sheet":
            del wb["预算执行"]
        elif make == "headers":
            wb["指标完成情况"]["J2"].value = "完成值"
        elif make == "empty":
            for ws in wb.worksheets:
                ws.delete_rows(3, ws.max_row)
        upload = to_upload(wb, name)
    response = signed_in(world.edu_unit_filler).post(IMPORT, {"file": upload} if upload else {})
    assert response.status_code == 400
    assert any(expected in p for p in response.context["problems"]), response.context["problems"]
    assert "未导入，数据没有任何改动" in response.content.decode()
    assert state() == before


def test_import_page_lists_cell_errors(world, signed_in, evaluations):
    wb = fill_sheet(template(world, signed_in), {"EDU-2025-001": ROUND_TRIP})
    cell(wb, "指标完成情况", "EDU-2025-001", TIMELY, "actual_value").value = -3
    response = signed_in(world.edu_unit_filler).post(IMPORT, {"file": to_upload(wb)})
    text = response.content.decode()
    assert response.status_code == 400 and "共 1 处错误" in text and "J（实际完成值）" in text
    assert "不能为负数" in text


@pytest.mark.parametrize(
    "persona", ["perf_admin", "shinan_finance", "npc_liaison", "auditor", "sector_kjw", "expert_li", "sysadmin"]
)
def test_roles_that_do_not_fill_get_403_and_nothing_changes(world, signed_in, evaluations, persona):
    wb = fill_sheet(template(world, signed_in), {"EDU-2025-001": ROUND_TRIP})
    before = state()
    client = signed_in(getattr(world, persona))
    assert client.get(IMPORT).status_code == 403
    assert client.get(TEMPLATE).status_code == 403
    assert client.post(IMPORT, {"file": to_upload(wb)}).status_code == 403
    assert state() == before


def test_another_districts_filler_sees_nothing_to_fill_and_cannot_import(world, signed_in, evaluations):
    wb = fill_sheet(template(world, signed_in), {"EDU-2025-001": ROUND_TRIP})  # 教育局's file
    client = signed_in(world.shinan_edu_filler)  # the test client signs in as someone else now
    assert "可以填报的单位自评：0 个项目" in client.get(IMPORT).content.decode()
    assert wb_rows(client.get(TEMPLATE)) == []
    before = state()
    assert client.post(IMPORT, {"file": to_upload(wb)}).status_code == 400
    assert state() == before


# --- summaries ------------------------------------------------------------------------------------


@pytest.fixture
def graded(world, evaluations, year2025):
    """教育局: 95 (优), 82 (良 → adjusted to 中 65), 卫生健康委: 50 (差), plus one unscored."""
    health = health_evaluation(world, year2025)
    fund_2025(world, year2025, code="EDU-2025-003", name="教师培训")
    open_round(world, year2025)
    unscored = SelfEvaluation.objects.get(fund__code="EDU-2025-003")
    first, second = evaluations
    SelfEvaluation.objects.filter(pk=first.pk).update(score=Decimal("95"), grade="excellent", status="confirmed",
                                                      executed_amount=Decimal("3000000"))  # fmt: skip
    SelfEvaluation.objects.filter(pk=second.pk).update(score=Decimal("82"), grade="good", status="confirmed",
                                                       adjusted_score=Decimal("65"), adjusted_grade="fair",
                                                       executed_amount=Decimal("1500000"))  # fmt: skip
    SelfEvaluation.objects.filter(pk=health.pk).update(score=Decimal("50"), grade="poor", status="submitted",
                                                       executed_amount=Decimal("600000"))  # fmt: skip
    return first, second, health, unscored


def test_summary_by_department_and_grade(world, signed_in, graded):
    data = excel.summary(world.perf_admin, 2025)
    assert [(b.label, b.evaluations, b.scored, b.average, b.grade_counts, b.unscored) for b in data.departments] == [
        ("青岛市教育局", 3, 2, Decimal("80.00"), [1, 0, 1, 0], 1),
        ("青岛市卫生健康委员会", 1, 1, Decimal("50.00"), [0, 0, 0, 1], 0),
    ]
    assert [(b.label, b.evaluations, data.share(b), b.average) for b in data.grades] == [
        ("优", 1, Decimal("33.33"), Decimal("95.00")),
        ("良", 0, Decimal("0.00"), None),
        ("中", 1, Decimal("33.33"), Decimal("65.00")),
        ("差", 1, Decimal("33.33"), Decimal("50.00")),
        ("未评分", 1, None, None),
    ]
    total = data.total
    assert (total.evaluations, total.scored, total.average) == (4, 3, Decimal("70.00"))
    assert total.budget == Decimal("12000000") and total.rate == Decimal("42.50")
    assert [b.evaluations for b in excel.summary(world.perf_admin, 2025, "confirmed").grades] == [1, 0, 1, 0, 0]
    assert excel.summary(world.perf_admin, 2025, "submitted").total.evaluations == 3
    assert excel.summary(world.perf_admin, 2026).total.evaluations == 0


@pytest.mark.parametrize(
    ("persona", "departments"),
    [
        ("npc_liaison", ["青岛市教育局", "青岛市卫生健康委员会"]),
        ("edu_approver", ["青岛市教育局"]),
        ("edu_unit_filler", ["青岛市教育局"]),
        ("health_filler", ["青岛市卫生健康委员会"]),
        ("shinan_finance", []),
    ],
)
def test_summary_follows_the_users_scope(world, signed_in, graded, persona, departments):
    response = signed_in(getattr(world, persona)).get(SUMMARY)
    assert response.status_code == 200
    assert [b.label for b in response.context["data"].departments] == departments


@pytest.mark.parametrize("persona", ["expert_li", "sysadmin", "audit_admin"])
def test_summary_is_403_for_roles_without_self_evaluations(world, signed_in, persona):
    client = signed_in(getattr(world, persona))
    assert client.get(SUMMARY).status_code == 403
    assert client.get(reverse("evaluations:summary_export")).status_code == 403


def test_summary_page_and_export(world, signed_in, graded):
    client = signed_in(world.perf_admin)
    text = client.get(SUMMARY, {"scope": "all"}).content.decode()
    assert 'id="summary-departments"' in text and "青岛市卫生健康委员会" in text and "80.00" in text
    assert 'data-grade="excellent"' in text and "33.33%" in text
    response = client.get(reverse("evaluations:summary_export"), {"scope": "confirmed"})
    name = f"单位自评结果汇总表-2025-{timezone.localdate():%Y%m%d}.xlsx"
    assert f"filename*=utf-8''{quote(name)}" in response["Content-Disposition"]
    wb = workbook_of(response)
    ws = wb["按部门汇总"]
    assert ws["A1"].value == "2025年度单位自评结果汇总表（按部门）" and "统计范围：财政已审核" in ws["A2"].value
    assert [c.value for c in ws[3]] == [label for label, _ in excel.DEPARTMENT_HEADERS]
    assert [c.value for c in ws[4]] == ["青岛市教育局", 2, 2, 80, 1, 0, 1, 0, 0, 600, 450, 75]
    assert ws[5][0].value == "合计" and ws[5][0].font.b
    grades = [[c.value for c in row] for row in wb["按等级汇总"].iter_rows(min_row=4)]
    assert [r[:2] for r in grades] == [["优", 1], ["良", 0], ["中", 1], ["差", 0], ["未评分", 0], ["合计", 2]]
    event = AuditEvent.objects.get(kind="export")
    assert event.comment == "导出单位自评结果汇总表（2025年度，财政已审核，2 个项目）"


def test_summary_takes_constant_queries(world, signed_in, graded, year2025):
    client = signed_in(world.perf_admin)
    n = [10]

    def grow():
        for _ in range(2):
            n[0] += 1
            fund_2025(world, year2025, code=f"EDU-2025-{n[0]:03d}")
        health_evaluation_more(world, year2025, n[0])
        open_round(world, year2025)
        SelfEvaluation.objects.filter(score__isnull=True).update(score=Decimal("77"), grade="fair")

    def fetch():
        assert client.get(SUMMARY).status_code == 200
        assert client.get(reverse("evaluations:summary_export")).status_code == 200

    assert_constant_queries(fetch, grow, expected=SUMMARY_QUERIES)


SUMMARY_QUERIES = 17


def health_evaluation_more(world, year2025, n):
    """Another department's fund (卫生健康委), approved by city finance directly in the database."""
    fund = make_fund(world, year2025, code=f"HEALTH-2025-{n:03d}", org=world.health_unit, actor=world.health_filler)
    target = target_services.target_start(actor=world.health_filler, fund=fund)
    target_services.target_save(actor=world.health_filler, target=target, long_term_goal="x", annual_goal="y",
                                rows=GOOD_ROWS)  # fmt: skip
    type(target).objects.filter(pk=target.pk).update(status="approved")
