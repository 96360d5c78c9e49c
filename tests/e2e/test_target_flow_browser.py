"""Headless Chromium: a unit files a target (4 library + 2 custom indicators), the department submits,
the sector division returns it with a comment, the unit fixes and resubmits, finance approves twice,
and the fund can then be arranged. Screenshots go to test-artifacts/."""

from decimal import Decimal

import pytest

from apps.funds import services as fund_services
from apps.indicators.models import LibraryIndicator
from apps.indicators.reference import load_indicators
from apps.orgs.models import FiscalYear
from apps.targets.models import PerformanceTarget
from tests.conftest import build_world
from tests.e2e.test_login_browser import shot, sign_in
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fund():
    world = build_world()
    load_indicators(LibraryIndicator)
    year = FiscalYear.objects.get_or_create(year=2026, defaults={"is_current": True})[0]
    return fund_services.fund_create(
        actor=world.edu_filler, fiscal_year=year, organization=world.edu_unit, code="E2E-001",
        name="家庭经济困难学生资助", budget_type="general", sector="education", fiscal_amount=Decimal("3000000"),
        other_amount=Decimal("0"), period_start=2026, period_end=2026,
    )  # fmt: skip


def as_user(page, base, username):
    page.goto(f"{base}/")
    if page.locator("#logout-button").count():
        page.click("#logout-button")
        page.wait_for_selector("#login-button")
    sign_in(page, base, username, TEST_PASSWORD)
    page.wait_for_selector("#main-nav")


def add_from_library(page, query, name):
    page.fill("#library-search", query)
    button = page.locator(f'.add-library-row[data-name="{name}"]')
    button.wait_for()
    button.click()


def fill_last_row(page, **values):
    row = page.locator("#indicator-rows tr.indicator-row").last
    for field in ("level1", "level2", "comparison"):
        if field in values:
            row.locator(f'select[name="row-{field}"]').select_option(values[field])
    for field in ("name", "value", "unit", "weight"):
        if field in values:
            row.locator(f'input[name="row-{field}"]').fill(values[field])


def step(page, base, target_pk, button):
    page.goto(f"{base}/targets/{target_pk}/")
    page.click(button)
    page.wait_for_selector("#messages")


def test_target_filed_returned_fixed_approved_and_arranged(page, live_server, fund):
    base = live_server.url
    as_user(page, base, "edu_unit_filler")
    page.goto(f"{base}/funds/{fund.pk}/?tab=target")
    page.click("#target-start")
    page.wait_for_selector("#target-form")
    page.fill("#id_long_term_goal", "到2028年实现家庭经济困难学生资助全覆盖。")
    page.fill("#id_annual_goal", "2026年资助困难学生2万人次，资金按时足额发放。")
    add_from_library(page, "巩固率", "义务教育巩固率")
    add_from_library(page, "资助人次", "学生资助人次")
    add_from_library(page, "资助覆盖率", "家庭经济困难学生资助覆盖率")
    add_from_library(page, "家长满意度", "学生家长满意度")
    rows = page.locator("#indicator-rows tr.indicator-row")
    for i, weight in enumerate(["15", "20", "15", "10"]):
        rows.nth(i).locator('input[name="row-weight"]').fill(weight)
    page.click("#add-custom-row")
    fill_last_row(page, level1="output", level2="timeliness", name="资助资金发放及时率", comparison="eq", value="100",
                  unit="%", weight="15")  # fmt: skip
    page.click("#add-custom-row")
    fill_last_row(page, level1="effect", level2="sustainable", name="资助政策知晓率", comparison="ge", value="95",
                  unit="%", weight="15")  # fmt: skip
    page.locator("#id_annual_goal").click()  # leave the last field: the live quality check runs
    page.wait_for_selector("#quality-ok")
    assert page.locator("#weight-total").inner_text() == "90"
    shot(page, "target-01-filled")
    page.click("#save-and-send")
    page.wait_for_selector("#target-status")
    target = PerformanceTarget.objects.get(fund=fund)
    assert target.status == "dept_review" and target.indicators.filter(library_indicator__isnull=False).count() == 4
    assert target.indicators.count() == 6

    as_user(page, base, "edu_approver")
    step(page, base, target.pk, "#target-submit")

    as_user(page, base, "sector_kjw")
    page.goto(f"{base}/targets/{target.pk}/")
    page.click("#target-return-open")
    page.fill("#return-comment-input", "学生资助人次应与资助名单一致。")
    first_row = target.indicators.get(name="学生资助人次")
    page.fill(f'input[name="indicator-comment-{first_row.pk}"]', "请核对为 21000 人次")
    shot(page, "target-02-returning")
    page.click("#target-return")
    page.wait_for_selector("#messages")
    target.refresh_from_db()
    assert target.status == "returned"

    as_user(page, base, "edu_unit_filler")
    page.goto(f"{base}/targets/{target.pk}/edit/")
    assert "请核对为 21000 人次" in page.locator("#indicator-rows").inner_text()
    shot(page, "target-03-returned-comments")
    row = page.locator("#indicator-rows tr.indicator-row", has_text="请核对为 21000 人次")
    row.locator('input[name="row-value"]').fill("21000")
    page.click("#save-and-send")
    page.wait_for_selector("#target-status")

    as_user(page, base, "edu_approver")
    step(page, base, target.pk, "#target-submit")
    page.goto(f"{base}/funds/{fund.pk}/")
    page.click("#fund-submit")
    page.wait_for_selector("#messages")

    as_user(page, base, "sector_kjw")
    step(page, base, target.pk, "#target-pass")
    as_user(page, base, "perf_admin")
    page.goto(f"{base}/targets/review/")
    shot(page, "target-04-review-queue")
    step(page, base, target.pk, "#target-approve")
    shot(page, "target-05-approved")
    page.goto(f"{base}/funds/{fund.pk}/")
    page.click("#fund-arrange")
    page.wait_for_selector("#messages")
    assert page.locator("#request-status").inner_text() == "已安排"
    shot(page, "target-06-fund-arranged")
    target.refresh_from_db()
    assert target.status == "approved"
    assert target.indicators.get(name="学生资助人次").target_value == Decimal("21000")
