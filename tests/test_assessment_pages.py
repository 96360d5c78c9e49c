"""Annual assessment (考核) pages: finance sets up, computes, adjusts, publishes and withdraws; each
department reads the published 通报 and only its own breakdown; a district never sees the city's
departments sheet; the printable 通报 and the Excel; constant queries as the bodies grow."""

import io
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from apps.core.models import AuditEvent, BackgroundJob
from apps.orgs.models import FiscalYear, Organization
from apps.supervision import services_assessment as engine
from apps.supervision import services_assessment_review as review
from apps.supervision.models import (
    AnnualAssessment,
    AssessedBody,
    AssessmentAdjustment,
    AssessmentItem,
    AssessmentKind,
    Metric,
)
from tests.factories import OrganizationFactory
from tests.querycount import assert_constant_queries
from tests.test_assessment_review import body, computed_sheet, line_of, score_manual

D = Decimal
S = AnnualAssessment.Status
LIST = reverse("supervision:assessment_list")


def url(name, sheet, *args):
    return reverse(f"supervision:{name}", args=[sheet.pk, *args])


@pytest.fixture
def sheet(world, year):
    return computed_sheet(world, year)


@pytest.fixture
def published(world, sheet):
    score_manual(world, sheet)
    review.line_adjust(
        actor=world.perf_admin,
        line=line_of(sheet, world.edu, Metric.DISCLOSURE),
        points="6",
        reason="部分项目未公开绩效目标",
    )
    review.assessment_publish(actor=world.perf_admin, assessment=sheet, notice="现将2026年度考核结果通报如下。")
    sheet.refresh_from_db()
    return sheet


def test_manager_creates_a_sheet_and_bad_input_saves_nothing(world, year, login):
    client = login(world.perf_admin)
    assert client.get(reverse("supervision:assessment_create")).status_code == 200
    response = client.post(reverse("supervision:assessment_create"), {"fiscal_year": year.pk, "kind": "departments"})
    sheet = AnnualAssessment.objects.get()
    assert response.status_code == 302 and response.url == url("assessment_detail", sheet)
    page = client.get(response.url).content.decode()
    assert "绩效目标按时报送" in page and "计算初稿" in page and "草稿" in page
    again = client.post(reverse("supervision:assessment_create"), {"fiscal_year": year.pk, "kind": "departments"})
    assert again.status_code == 200 and "已经建立" in again.content.decode()
    assert AnnualAssessment.objects.count() == 1


@pytest.mark.parametrize("persona", ["edu_approver", "finance_leader", "auditor", "npc_liaison"])
def test_only_finance_may_create(world, year, login, persona):
    client = login(getattr(world, persona))
    assert client.get(reverse("supervision:assessment_create")).status_code == 403
    response = client.post(reverse("supervision:assessment_create"), {"fiscal_year": year.pk, "kind": "departments"})
    assert response.status_code == 403 and not AnnualAssessment.objects.exists()


def test_compute_button_starts_the_job_and_leads_back(world, year, login, django_capture_on_commit_callbacks):
    sheet = engine.assessment_create(actor=world.perf_admin, fiscal_year=year, kind=AssessmentKind.DEPARTMENTS)
    client = login(world.perf_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("assessment_compute", sheet))
    job = BackgroundJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("jobs:job_detail", args=[job.pk])
    job_page = client.get(response.url).content.decode()
    assert url("assessment_detail", sheet) in job_page  # the 返回 link
    sheet.refresh_from_db()
    assert sheet.status == S.REVIEW and AssessedBody.objects.filter(assessment=sheet).count() == 3
    page = client.get(url("assessment_detail", sheet)).content.decode()
    assert "ranking-table" in page and "青岛市卫生健康委员会" in page and "尚有人工评分项未评分" in page


def test_computing_shows_the_job_link(world, year, login):
    sheet = engine.assessment_create(actor=world.perf_admin, fiscal_year=year, kind=AssessmentKind.DEPARTMENTS)
    job = review.compute_start(actor=world.perf_admin, assessment=sheet)  # on_commit not run: stays 计算中
    page = login(world.perf_admin).get(url("assessment_detail", sheet)).content.decode()
    assert "计算中" in page and reverse("jobs:job_detail", args=[job.pk]) in page


def test_item_add_edit_delete(world, year, login):
    sheet = engine.assessment_create(actor=world.perf_admin, fiscal_year=year, kind=AssessmentKind.DEPARTMENTS)
    client = login(world.perf_admin)
    bad = client.post(url("assessment_item_create", sheet), {"sort_order": 9, "name": "档案管理", "metric": "manual"})
    assert bad.status_code == 200 and "分值" in bad.content.decode()
    data = {"sort_order": 9, "name": "档案管理", "metric": "manual", "max_points": "5", "params": "", "guidance": ""}
    assert client.post(url("assessment_item_create", sheet), data).status_code == 302
    item = sheet.items.get(name="档案管理")
    edit = client.post(url("assessment_item_edit", sheet, item.pk), data | {"max_points": "6"})
    assert edit.status_code == 302
    item.refresh_from_db()
    assert item.max_points == D("6")
    assert client.post(url("assessment_item_delete", sheet, item.pk)).status_code == 302
    assert not sheet.items.filter(name="档案管理").exists()
    assert login(world.edu_approver).post(url("assessment_item_create", sheet), data).status_code == 403


def test_adjust_on_the_breakdown_page_refused_without_reason(world, sheet, login):
    client = login(world.perf_admin)
    target = body(sheet, world.edu)
    page_url = url("assessment_body", sheet, target.pk)
    line = line_of(sheet, world.edu, Metric.TARGET_ON_TIME)
    response = client.post(page_url, {"line": line.pk, f"l{line.pk}-points": "12", f"l{line.pk}-reason": ""})
    assert response.status_code == 200 and "请填写调整理由" in response.content.decode()
    assert not AssessmentAdjustment.objects.exists()
    response = client.post(page_url, {"line": line.pk, f"l{line.pk}-points": "12", f"l{line.pk}-reason": "延迟报送"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.points == D("12.00") and line.adjust_reason == "延迟报送"
    page = client.get(page_url).content.decode()
    assert "延迟报送" in page and "15.00 → 12.00" in page
    manual = line_of(sheet, world.edu, Metric.MANUAL)
    response = client.post(
        page_url,
        {
            "line": manual.pk,
            f"l{manual.pk}-points": "9",
            f"l{manual.pk}-reason": "制度健全",
            f"l{manual.pk}-evidence": "青教发〔2026〕3号",
        },
    )
    assert response.status_code == 302
    assert "青教发〔2026〕3号" in client.get(page_url).content.decode()


def test_publish_and_withdraw_on_the_page(world, sheet, login):
    client = login(world.perf_admin)
    response = client.post(url("assessment_publish", sheet), {"notice": "通报"})
    assert response.status_code == 200 and "尚未评分" in response.content.decode()
    score_manual(world, sheet)
    assert client.post(url("assessment_publish", sheet), {"notice": ""}).status_code == 200
    sheet.refresh_from_db()
    assert sheet.status == S.REVIEW
    assert client.post(url("assessment_publish", sheet), {"notice": "现将结果通报如下。"}).status_code == 302
    sheet.refresh_from_db()
    assert sheet.status == S.PUBLISHED
    page = client.post(url("assessment_withdraw", sheet), {"reason": ""}).content.decode()
    assert "请填写撤回理由" in page
    assert client.post(url("assessment_withdraw", sheet), {"reason": "数据更正"}).status_code == 302
    sheet.refresh_from_db()
    assert sheet.status == S.REVIEW


def test_unpublished_sheet_is_invisible_to_departments(world, sheet, login):
    for persona in ("edu_approver", "edu_filler", "health_filler", "npc_liaison", "shinan_finance"):
        client = login(getattr(world, persona))
        assert sheet.title not in client.get(LIST).content.decode(), persona
        assert client.get(url("assessment_detail", sheet)).status_code == 404, persona
        assert client.get(url("assessment_body", sheet, body(sheet, world.edu).pk)).status_code in (403, 404), persona
        assert client.get(url("assessment_notice", sheet)).status_code == 404, persona
        assert client.get(url("assessment_export", sheet)).status_code == 404, persona


def test_department_reads_the_ranking_and_only_its_own_breakdown(world, published, login):
    client = login(world.edu_approver)
    assert published.title in client.get(LIST).content.decode()
    page = client.get(url("assessment_detail", published)).content.decode()
    assert "青岛市卫生健康委员会" in page and "青岛市教育局" in page  # the 通报 ranks everyone
    own = url("assessment_body", published, body(published, world.edu).pk)
    assert own in page and url("assessment_body", published, body(published, world.health).pk) not in page
    assert "发布通报" not in page and "计算初稿" not in page
    breakdown = client.get(own).content.decode()
    assert "部分项目未公开绩效目标" in breakdown and 'name="line"' not in breakdown
    assert client.get(url("assessment_body", published, body(published, world.health).pk)).status_code == 404
    assert client.post(url("assessment_withdraw", published), {"reason": "不服"}).status_code == 403
    assert client.post(url("assessment_compute", published)).status_code == 403
    published.refresh_from_db()
    assert published.status == S.PUBLISHED


def test_district_sees_nothing_of_the_city_departments_sheet(world, published, login):
    client = login(world.shinan_finance)
    assert published.title not in client.get(LIST).content.decode()
    for name in ("assessment_detail", "assessment_notice", "assessment_export"):
        assert client.get(url(name, published)).status_code == 404
    assert client.get(url("assessment_body", published, body(published, world.edu).pk)).status_code == 404
    assert client.post(url("assessment_withdraw", published), {"reason": "x"}).status_code == 404


def test_district_office_sees_its_own_line_in_the_city_districts_sheet(world, year, login):
    sheet = computed_sheet(world, year, AssessmentKind.DISTRICTS)
    own = AssessedBody.objects.get(assessment=sheet, organization=world.shinan_finance_org)
    client = login(world.shinan_finance)
    assert client.get(url("assessment_detail", sheet)).status_code == 404  # not yet published
    score_manual(world, sheet)
    review.assessment_publish(actor=world.perf_admin, assessment=sheet, notice="区市考核通报")
    client = login(world.shinan_finance)
    assert client.get(url("assessment_detail", sheet)).status_code == 200
    assert client.get(url("assessment_body", sheet, own.pk)).status_code == 200
    assert client.post(url("assessment_withdraw", sheet), {"reason": "x"}).status_code == 403  # assessed, not assessor
    assert login(world.shinan_edu_filler).get(url("assessment_body", sheet, own.pk)).status_code == 404


def test_printable_notice(world, published, login):
    client = login(world.edu_approver)
    page = client.get(url("assessment_notice", published)).content.decode()
    assert "现将2026年度考核结果通报如下" in page and "notice-table" in page and "@media print" in page
    printed = client.get(url("assessment_notice", published) + "?print=1").content.decode()
    assert "main-nav" not in printed and "window.print" in printed and "青岛市卫生健康委员会" in printed
    assert f"{published.published_at.year}年" in printed


def test_excel_for_finance_and_for_a_department(world, published, login):
    response = login(world.perf_admin).get(url("assessment_export", published))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["排名", "明细"]
    header = [c.value for c in wb["排名"][3]]
    assert header[:2] == ["名次", "被考核单位"] and header[-2:] == ["总分", "等次"] and len(header) == 12
    assert response["Content-Disposition"].endswith(quote("_通报.xlsx"))
    names = {row[0].value for row in wb["明细"].iter_rows(min_row=4)}
    assert names == {"青岛市教育局", "青岛市科学技术局", "青岛市卫生健康委员会"}
    assert any(row[7].value == "部分项目未公开绩效目标" for row in wb["明细"].iter_rows(min_row=4))
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.EXPORT, actor=world.perf_admin).exists()
    wb = load_workbook(io.BytesIO(login(world.edu_approver).get(url("assessment_export", published)).content))
    assert [c.value for c in wb["排名"][3]] == ["名次", "被考核单位", "总分", "等次"]
    assert {row[0].value for row in wb["明细"].iter_rows(min_row=4)} == {"青岛市教育局"}


def _grow(world, sheet, n=3):
    def grow():
        K = Organization.Kind
        for i in range(n):
            OrganizationFactory(code=f"T-X{i}-{sheet.pk}", name=f"新增部门{i}", kind=K.DEPARTMENT, region=world.city)
        AnnualAssessment.objects.filter(pk=sheet.pk).update(status=S.DRAFT)
        engine.assessment_compute(sheet.pk)
        score_manual(world, sheet)
        review.line_adjust(
            actor=world.perf_admin, line=line_of(sheet, world.health, Metric.DISCLOSURE), points="3", reason="未公开"
        )

    return grow


def test_constant_queries_on_the_detail(world, sheet, login):
    client = login(world.perf_admin)
    assert_constant_queries(lambda: client.get(url("assessment_detail", sheet)), _grow(world, sheet), expected=13)


def test_constant_queries_on_export_and_breakdown(world, sheet, login):
    client = login(world.perf_admin)
    target = body(sheet, world.health)

    def both():
        assert client.get(url("assessment_export", sheet)).status_code == 200
        assert client.get(url("assessment_body", sheet, target.pk)).status_code == 200

    assert_constant_queries(both, _grow(world, sheet), expected=22)


def test_constant_queries_on_the_list(world, sheet, login):
    client = login(world.perf_admin)

    def grow():
        for y in (2023, 2024, 2025):
            fy = FiscalYear.objects.get_or_create(year=y)[0]
            engine.assessment_create(actor=world.perf_admin, fiscal_year=fy, kind=AssessmentKind.DEPARTMENTS)

    assert_constant_queries(lambda: client.get(LIST), grow, expected=9)


def test_demo_sheets_published_and_under_review(db, client):
    from io import StringIO

    from django.core.management import call_command

    from apps.accounts.models import User
    from apps.supervision.demo_assessment import seed_assessment_demo

    call_command("seed_demo", stdout=StringIO())  # seeds the sheets through seed_assessment_demo
    assert seed_assessment_demo() == 0  # repeatable
    done = AnnualAssessment.objects.get(fiscal_year_id=2025)
    open_ = AnnualAssessment.objects.get(fiscal_year_id=2026)
    assert (done.status, open_.status) == (S.PUBLISHED, S.REVIEW)
    assert (
        AssessmentAdjustment.objects.filter(line__body__assessment=done)
        .exclude(line__item__metric=Metric.MANUAL)
        .count()
        == 1
    )
    ranks = list(done.bodies.values_list("rank", flat=True))
    assert None not in ranks and len(set(done.bodies.values_list("total", flat=True))) > 3  # meaningful spread
    approver = User.objects.get(username="edu_approver")
    client.force_login(approver)
    edu = done.bodies.get(organization__code="370200-EDU")
    page = client.get(url("assessment_body", done, edu.pk)).content.decode()
    assert "撤并" in page and "计算依据" in page
    other = done.bodies.exclude(pk=edu.pk).first()
    assert client.get(url("assessment_body", done, other.pk)).status_code == 404
    assert client.get(url("assessment_detail", open_)).status_code == 404


def test_adjusting_a_published_sheet_is_refused_with_a_message(world, published, login):
    client = login(world.perf_admin)
    line = line_of(published, world.edu, Metric.TARGET_ON_TIME)
    page_url = url("assessment_body", published, body(published, world.edu).pk)
    response = client.post(
        page_url, {"line": line.pk, f"l{line.pk}-points": "1", f"l{line.pk}-reason": "晚了"}, follow=True
    )
    assert "只有待审定时可以调整得分" in response.content.decode()
    line.refresh_from_db()
    assert not line.adjusted


def test_list_filters_by_year(world, sheet, login):
    client = login(world.perf_admin)
    assert sheet.title in client.get(LIST, {"year": 2026}).content.decode()
    assert sheet.title not in client.get(LIST, {"year": 2025}).content.decode()


BAD_NUMBERS = ["²", "abc", "99999999999999999999"]


@pytest.mark.parametrize("raw", BAD_NUMBERS)
def test_bad_numbers_never_give_a_500(world, sheet, login, raw):
    client = login(world.perf_admin)
    response = client.get(LIST, {"year": raw})  # not a year: the list of every year
    assert response.status_code == 200 and sheet.title in response.content.decode()
    target = body(sheet, world.edu)
    line = line_of(sheet, world.edu, Metric.TARGET_ON_TIME)
    refused = client.post(url("assessment_body", sheet, target.pk), {"line": raw, f"l{line.pk}-points": "1"})
    assert refused.status_code == 404
    bad_order = client.post(
        url("assessment_item_create", sheet),
        {"sort_order": raw, "name": "档案管理", "metric": "manual", "max_points": "5"},
    )
    assert bad_order.status_code == 200 and "序号应为0至32767之间的整数" in bad_order.content.decode()
    for path in (f"/supervision/assessments/{quote(raw)}/", f"/supervision/assessments/{sheet.pk}/items/{quote(raw)}/"):
        assert client.get(path).status_code == 404  # an id that is no number (or overflows) is simply not found
    assert client.get(f"/supervision/assessments/{sheet.pk}/bodies/{quote(raw)}/").status_code == 404
    line.refresh_from_db()
    assert not line.adjusted and not sheet.items.filter(name="档案管理").exists()
    assert not AssessmentAdjustment.objects.exists()


def test_a_refused_adjustment_names_the_line_and_focuses_its_field(world, sheet, login):
    client = login(world.perf_admin)
    line = line_of(sheet, world.edu, Metric.DISCLOSURE)  # a lower line
    page_url = url("assessment_body", sheet, body(sheet, world.edu).pk)
    page = client.post(page_url, {"line": line.pk, f"l{line.pk}-points": "3", f"l{line.pk}-reason": ""})
    html = page.content.decode()
    assert page.status_code == 200 and 'id="adjust-failed"' in html
    assert f'href="#line-{line.pk}"' in html and f"“{line.item.name}”的得分调整未保存" in html
    assert "请填写调整理由" in html
    focused = [chunk for chunk in html.split("<") if "autofocus" in chunk]
    assert len(focused) == 1 and f'id="id_l{line.pk}-reason"' in focused[0]
    line.refresh_from_db()
    assert not line.adjusted


def test_item_form_has_real_score_gap_fields_and_no_silent_default_metric(world, year, login):
    sheet = engine.assessment_create(actor=world.perf_admin, fiscal_year=year, kind=AssessmentKind.DEPARTMENTS)
    client = login(world.perf_admin)
    form = client.get(url("assessment_item_create", sheet)).content.decode()
    assert '<option value="" selected>请选择</option>' in form
    assert "允许偏差（分）" in form and "每超 1 分扣分" in form and "JSON" not in form
    unchosen = client.post(url("assessment_item_create", sheet), {"name": "偏差", "max_points": "5"})
    assert unchosen.status_code == 200 and "请选择计分方式" in unchosen.content.decode()
    data = {"name": "评价偏差", "metric": "score_gap", "max_points": "10", "tolerance": "abc", "deduct_per_point": "2"}
    bad = client.post(url("assessment_item_create", sheet), data)
    assert bad.status_code == 200 and "允许偏差（分）应为0至100之间的数字" in bad.content.decode()
    assert not sheet.items.filter(name="评价偏差").exists()
    assert client.post(url("assessment_item_create", sheet), data | {"tolerance": "3"}).status_code == 302
    item = sheet.items.get(name="评价偏差")
    assert item.params == {"tolerance": 3, "deduct_per_point": 2}
    edit = client.get(url("assessment_item_edit", sheet, item.pk)).content.decode()
    assert 'name="tolerance" value="3"' in edit and 'name="deduct_per_point" value="2"' in edit
    # another metric: the parameters are not kept
    manual = data | {"metric": "manual", "tolerance": "3"}
    assert client.post(url("assessment_item_edit", sheet, item.pk), manual).status_code == 302
    item.refresh_from_db()
    assert item.metric == Metric.MANUAL and item.params == {}


def test_new_sheet_defaults_to_the_year_chosen_in_the_header(world, year, login):
    FiscalYear.objects.get_or_create(year=2027)
    FiscalYear.objects.get_or_create(year=2025)
    client = login(world.perf_admin)
    session = client.session
    session["fiscal_year"] = 2025
    session.save()
    form = client.get(reverse("supervision:assessment_create")).content.decode()
    assert '<option value="2025" selected>' in form and '<option value="2027" selected>' not in form


def test_publish_reports_the_empty_notice_and_the_unscored_items_together(world, sheet, login):
    client = login(world.perf_admin)
    page = client.post(url("assessment_publish", sheet), {"notice": ""}).content.decode()
    assert "请填写通报说明" in page and "以下人工评分项尚未评分" in page and "青岛市教育局" in page
    assert "autofocus" in page
    sheet.refresh_from_db()
    assert sheet.status == S.REVIEW


def test_detail_page_wording_and_history_names(world, sheet, login):
    world.perf_admin.real_name = "王绩效"
    world.perf_admin.save(update_fields=["real_name"])
    page = login(world.perf_admin).get(url("assessment_detail", sheet)).content.decode()
    assert "导出 Excel" in page and "导出Excel" not in page
    assert '<td class="text-nowrap">1</td>' in page
    history = page.split('id="assessment-history"')[1].split("</ul>")[0]
    assert "王绩效" in history


def test_draft_excel_is_marked_unpublished_prints_landscape_and_says_manual(world, sheet, login):
    score_manual(world, sheet)
    AssessmentItem.objects.filter(assessment=sheet, metric=Metric.MANUAL).update(name="制度建设")
    response = login(world.perf_admin).get(url("assessment_export", sheet))
    assert response["Content-Disposition"].endswith(quote("_考核初稿.xlsx"))
    wb = load_workbook(io.BytesIO(response.content))
    for ws in wb.worksheets:
        assert "考核初稿" in ws["A1"].value and ws["A2"].value.startswith("未发布")
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        assert ws.print_title_rows == "$3:$3"
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
        assert {str(r) for r in ws.merged_cells.ranges} >= {f"A1:{ws.cell(3, ws.max_column).column_letter}1"}
    rows = [[c.value for c in row] for row in wb["明细"].iter_rows(min_row=4)]
    assert {r[6] for r in rows if r[1] == "制度建设"} == {"人工评分"}
    assert "是" not in {r[6] for r in rows if r[1] == "制度建设"}
