"""Headless Chromium: 财政局领导 opens 专项领域 (every region), switches the year in the header
(the page has no year selector of its own), opens the PPP funds; 教育局's approver sees only its
own funds. Screenshots ``test-artifacts/areas-0*.png``."""

import pytest
from playwright.sync_api import expect

from apps.orgs.models import FiscalYear
from tests.conftest import build_world
from tests.e2e.test_login_browser import shot
from tests.e2e.test_target_flow_browser import as_user
from tests.test_special_areas import build_areas

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    w = build_world()
    FiscalYear.objects.get_or_create(year=2026, defaults={"is_current": True})
    w.areas = build_areas(w)
    return w


def test_leader_reads_the_areas_and_a_department_only_its_own(page, live_server, world):
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})
    as_user(page, base, "finance_leader")
    page.goto(f"{base}/supervision/areas/")
    expect(page.locator("h1")).to_contain_text("2026年度")
    expect(page.locator("#area-summary")).to_contain_text("市南区")
    expect(page.locator("#area-total")).to_contain_text("1,050.00")
    expect(page.locator("#grade-basis")).to_contain_text("重点评价")
    shot(page, "areas-01-summary")

    expect(page.locator("#area-year-select")).to_have_count(0)
    page.select_option("#year-select", "2025")
    expect(page.locator("h1")).to_contain_text("2025年度")
    expect(page.locator("#year-select")).to_have_value("2025")
    expect(page.locator("#area-total")).to_contain_text("700.00")
    shot(page, "areas-02-summary-2025")

    page.select_option("#year-select", "2026")
    expect(page.locator("h1")).to_contain_text("2026年度")
    page.click("#area-link-ppp")
    expect(page.locator("h1")).to_contain_text("PPP项目")
    table = page.locator("#area-funds")
    expect(table).to_contain_text("EDU-U")
    expect(table).to_contain_text("SN")
    expect(table.locator('tr[data-fund="EDU-U"]')).to_contain_text("优")
    shot(page, "areas-03-ppp-detail")
    page.select_option("#area-region", str(world.shinan.pk))
    page.click("#area-filter button")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("SN")
    expect(page.locator("h1")).to_contain_text("2026年度")
    expect(page.locator("#year-select")).to_have_value("2026")

    as_user(page, base, "edu_approver")
    page.goto(f"{base}/supervision/areas/")
    expect(page.locator("#area-summary")).not_to_contain_text("市南区")
    expect(page.locator("#area-total")).to_contain_text("450.00")
    page.click("#area-link-ppp")
    table = page.locator("#area-funds")
    expect(table).to_contain_text("EDU-U")
    expect(table).to_contain_text("EDU-D")
    expect(table).not_to_contain_text("市南区")
    expect(table.locator("tbody tr")).to_have_count(2)
    shot(page, "areas-04-department-own")
