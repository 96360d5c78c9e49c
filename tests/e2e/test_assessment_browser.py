"""Headless Chromium: perf_admin creates the FY 2026 部门考核 (the year defaults to the header's),
tries an item with a bad 允许偏差 (the metric must be chosen; the error field is focused), computes
the draft (the job page leads back), has an adjustment of a lower line refused (the error is in
view), adjusts one line, scores the hand-scored item, is told every reason publishing is refused at
once, and publishes the 通报; edu_approver opens 教育局's own breakdown — the adjusted line and the
basis — and is refused 卫生健康委's."""

import pytest
from playwright.sync_api import expect

from apps.orgs.models import FiscalYear
from apps.supervision import services_assessment_review as review
from apps.supervision.models import AnnualAssessment, AssessedBody, AssessmentLine, Metric
from tests.conftest import build_world
from tests.e2e.test_login_browser import shot
from tests.e2e.test_target_flow_browser import as_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    w = build_world()
    FiscalYear.objects.get_or_create(year=2026, defaults={"is_current": True})
    return w


def line(sheet, org, metric) -> AssessmentLine:
    return AssessmentLine.objects.get(body__assessment=sheet, body__organization=org, item__metric=metric)


def test_finance_computes_adjusts_publishes_and_the_department_reads_its_breakdown(page, live_server, world):
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})
    as_user(page, base, "perf_admin")
    page.goto(f"{base}/supervision/assessments/")
    page.click("#assessment-new")
    expect(page.locator("#id_fiscal_year")).to_have_value("2026")  # the header's year
    page.select_option("#id_fiscal_year", "2026")
    page.select_option("#id_kind", "departments")
    page.click("#assessment-save")
    expect(page.locator("#item-table")).to_contain_text("绩效目标按时报送")
    sheet = AnnualAssessment.objects.get()
    shot(page, "assessment-01-items")

    page.click("#item-new")  # the metric must be chosen; the score-gap parameters are plain fields
    expect(page.locator("#id_metric")).to_have_value("")
    expect(page.locator("#id_tolerance")).to_be_hidden()
    page.select_option("#id_metric", "score_gap")
    expect(page.locator("#id_tolerance")).to_be_visible()
    page.fill("#id_name", "评价偏差（试）")
    page.fill("#id_max_points", "5")
    page.fill("#id_tolerance", "三分")
    page.click("#item-save")
    expect(page.locator("#item-form")).to_contain_text("允许偏差（分）应为0至100之间的数字")
    expect(page.locator("#id_tolerance")).to_be_focused()
    shot(page, "assessment-01b-item-form")
    page.goto(f"{base}/supervision/assessments/{sheet.pk}/")

    page.click("#assessment-compute")
    expect(page.locator("#job-progress")).to_have_attribute("data-status", "done", timeout=30000)
    expect(page.locator("#job-message")).to_contain_text("考核初稿已计算")
    shot(page, "assessment-02-job")
    page.click("#job-back")
    expect(page.locator("#assessment-status")).to_have_text("待审定")
    expect(page.locator("#ranking-table")).to_contain_text("青岛市教育局")
    expect(page.locator("#assessment-unscored")).to_be_visible()
    shot(page, "assessment-03-draft")

    edu = AssessedBody.objects.get(assessment=sheet, organization=world.edu)
    page.click(f'#ranking-table a[href="/supervision/assessments/{sheet.pk}/bodies/{edu.pk}/"]')
    lower = line(sheet, world.edu, Metric.DISCLOSURE)  # far down the page: the error must come into view
    card = page.locator(f"#line-{lower.pk}")
    card.locator("summary.adjust-toggle").click()
    card.locator(f"#id_l{lower.pk}-points").fill("3")
    card.locator("button").click()
    expect(page.locator(f"#line-{lower.pk} .invalid-feedback")).to_contain_text("请填写调整理由")
    expect(page.locator(f"#id_l{lower.pk}-reason")).to_be_in_viewport()
    expect(page.locator(f"#id_l{lower.pk}-reason")).to_be_focused()
    expect(page.locator("#adjust-failed")).to_contain_text("未保存")
    shot(page, "assessment-03b-refused-in-view")
    lower.refresh_from_db()
    assert not lower.adjusted
    target = line(sheet, world.edu, Metric.TARGET_ON_TIME)
    card = page.locator(f"#line-{target.pk}")
    card.locator("summary.adjust-toggle").click()
    card.locator(f"#id_l{target.pk}-points").fill("12")
    card.locator("button").click()
    expect(page.locator(f"#line-{target.pk}")).to_contain_text("请填写调整理由")
    target.refresh_from_db()
    assert not target.adjusted
    card = page.locator(f"#line-{target.pk}")
    card.locator(f"#id_l{target.pk}-reason").fill("两个项目逾期报送，经核实扣减3分")
    card.locator("button").click()
    expect(page.locator(f"#line-{target.pk} .line-adjusted")).to_contain_text("两个项目逾期报送")
    expect(page.locator(f"#line-{target.pk} .line-history")).to_contain_text("15.00 → 12.00")
    manual = line(sheet, world.edu, Metric.MANUAL)
    card = page.locator(f"#line-{manual.pk}")
    card.locator(f"#id_l{manual.pk}-points").fill("9")
    card.locator(f"#id_l{manual.pk}-reason").fill("制度健全，配合重点评价及时")
    card.locator(f"#id_l{manual.pk}-evidence").fill("青教发〔2026〕12号")
    card.locator("button").click()
    expect(page.locator(f"#line-{manual.pk} .line-adjusted")).to_contain_text("青教发〔2026〕12号")
    page.locator(f"#line-{target.pk}").scroll_into_view_if_needed()
    shot(page, "assessment-04-adjusted")

    page.goto(f"{base}/supervision/assessments/{sheet.pk}/")
    page.click("#assessment-publish-button")  # no 通报说明 and two unscored items: both said at once
    expect(page.locator("#assessment-publish")).to_contain_text("请填写通报说明")
    expect(page.locator("#assessment-publish")).to_contain_text("以下人工评分项尚未评分")
    expect(page.locator("#id_notice")).to_be_in_viewport()
    shot(page, "assessment-04b-publish-refused")
    for other in (world.sci, world.health):  # the other two hand-scored lines, as finance would
        review.line_adjust(
            actor=world.perf_admin, line=line(sheet, other, Metric.MANUAL), points="8", reason="制度较健全"
        )
    page.goto(f"{base}/supervision/assessments/{sheet.pk}/")
    page.fill("#id_notice", "现将2026年度市级部门预算绩效管理工作考核结果通报如下。")
    page.click("#assessment-publish-button")
    expect(page.locator("#assessment-status")).to_have_text("已通报")
    expect(page.locator("#assessment-withdraw")).to_be_visible()
    shot(page, "assessment-05-published")

    as_user(page, base, "edu_approver")
    page.goto(f"{base}/supervision/assessments/")
    page.click(f'#assessment-table a[href="/supervision/assessments/{sheet.pk}/"]')
    expect(page.locator("#ranking-table")).to_contain_text("青岛市卫生健康委员会")
    expect(page.locator("#assessment-publish")).to_have_count(0)
    expect(page.locator("#ranking-table a")).to_have_count(1)  # only its own breakdown
    page.click("#ranking-table a")
    expect(page.locator(f"#line-{target.pk} .line-adjusted")).to_contain_text("两个项目逾期报送")
    expect(page.locator(f"#line-{target.pk} .line-basis")).to_contain_text("计算依据")
    expect(page.locator("form.line-adjust")).to_have_count(0)
    shot(page, "assessment-06-own-breakdown")
    health = AssessedBody.objects.get(assessment=sheet, organization=world.health)
    response = page.goto(f"{base}/supervision/assessments/{sheet.pk}/bodies/{health.pk}/")
    assert response.status == 404
    page.goto(f"{base}/supervision/assessments/{sheet.pk}/notice/")
    expect(page.locator("#notice-table")).to_contain_text("青岛市教育局")
    shot(page, "assessment-07-notice")
