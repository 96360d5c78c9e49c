"""Headless Chromium: 青岛第二中学's filler types the self-evaluation and watches the live score
change, completes the reasons, saves and sends; the department approver submits it; finance
(perf_admin) adjusts the score with a written reason and the page shows both scores."""

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from apps.evaluations import services
from apps.evaluations.models import SelfEvaluation
from apps.orgs.models import FiscalYear
from tests.conftest import build_world
from tests.e2e.test_login_browser import shot
from tests.e2e.test_target_flow_browser import as_user
from tests.test_targets_flow import approve_all_the_way, filed_target, make_fund

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def evaluation():
    world = build_world()
    FiscalYear.objects.get_or_create(year=2026, defaults={"is_current": True})
    year = FiscalYear.objects.get_or_create(year=2025)[0]
    approve_all_the_way(world, filed_target(world, make_fund(world, year, code="EDU-2025-001")))
    services.round_open(
        actor=world.perf_admin, organization=world.city_finance, fiscal_year=year, due_on=date(2026, 3, 31)
    )
    return SelfEvaluation.objects.get()


def test_unit_fills_with_live_score_department_submits_finance_adjusts(page, live_server, evaluation):
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})
    lines = list(evaluation.lines.select_related("indicator").order_by("indicator__sort_order"))
    score = page.locator("#live-score")

    as_user(page, base, "edu_unit_filler")
    page.goto(f"{base}/evaluations/self/{evaluation.pk}/")
    page.click("#self-edit")
    page.wait_for_selector("#self-form")
    expect(score).to_have_text("0.00")
    page.fill("#executed_wan", "270")  # 270 of 300 万元: 9 of the 10 execution points
    expect(score).to_have_text("9.00")
    for line in lines:
        prefix = f"#line-{line.pk}-"
        if line.indicator.comparison == "qualitative":
            page.fill(prefix + "actual_text", "资助长效机制已建立")
            page.select_option(prefix + "band", "achieved")
            page.fill(prefix + "band_percent", "100")
        else:
            value = "90" if line.indicator.name == "资金发放及时率" else f"{line.indicator.target_value.normalize():f}"
            page.fill(prefix + "actual_value", value)
    # 9 + 20 + 15 + 90/95 × 15 + 20 + 10 + 10 = 98.2105… → 98.21
    expect(score).to_have_text("98.21")
    expect(page.locator("#send-problems")).to_contain_text("“资金发放及时率”未完成目标")
    expect(page.locator("#self-breakdown")).to_contain_text("90 ÷ 95 × 15 = 14.2105")
    page.evaluate("window.scrollTo(0, 0)")  # the breakdown is sticky: shoot from the top
    shot(page, "selfeval-01-live-score")
    assert SelfEvaluation.objects.get().score is None  # the live score saves nothing

    timely = next(line for line in lines if line.indicator.name == "资金发放及时率")
    page.fill(f"#line-{timely.pk}-shortfall_reason", "部分学校学生名单报送延迟，资金发放晚于计划")
    page.fill(f"#line-{timely.pk}-improvement_measure", "提前一个月核对名单，按月通报发放进度")
    page.fill("#execution_reason", "部分资助资金待学期末据实结算")
    page.fill("#execution_measure", "学期末前完成结算支付")
    expect(page.locator("#send-ready")).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "selfeval-02-reasons-complete")
    page.click("#self-save")
    page.wait_for_selector("#self-status")
    expect(page.locator("#final-score")).to_contain_text("98.21")
    page.click("#self-send")
    expect(page.locator("#self-status")).to_contain_text("待部门审核")
    shot(page, "selfeval-03-sent")

    as_user(page, base, "edu_approver")
    page.goto(f"{base}/evaluations/self/{evaluation.pk}/")
    expect(page.locator("#breakdown-table")).to_contain_text("实际 90%，未达到目标 95%")
    page.click("#self-submit")
    expect(page.locator("#self-status")).to_contain_text("待财政审核")
    shot(page, "selfeval-04-submitted")

    as_user(page, base, "perf_admin")
    page.goto(f"{base}/evaluations/self/{evaluation.pk}/")
    page.fill("#id_new_score", "88.5")
    page.click("#adjust-submit")  # no reason: refused, nothing changes
    expect(page.locator("#adjust-form")).to_contain_text("调整得分必须写明理由。")
    page.fill("#id_reason", "抽查发现资助覆盖率佐证材料不全，核减效益指标得分")
    page.click("#adjust-submit")
    expect(page.locator("#final-score")).to_contain_text("88.50")
    expect(page.locator("#original-score")).to_have_text("98.21")
    expect(page.locator("#adjustment-list")).to_contain_text("98.21 → 88.50")
    expect(page.locator("#adjustment-list")).to_contain_text("抽查发现资助覆盖率佐证材料不全")
    shot(page, "selfeval-05-adjusted")

    evaluation.refresh_from_db()
    assert evaluation.status == "submitted" and evaluation.score == Decimal("98.21")
    assert evaluation.adjusted_score == Decimal("88.50") and evaluation.final_grade_display == "良"
