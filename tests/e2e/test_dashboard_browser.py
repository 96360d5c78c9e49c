"""Headless Chromium: city finance reads the dashboard (charts drawn by the vendored Chart.js),
switches a chart to its table, downloads its Excel and opens the city comparison; 教育局's approver
sees only its own funds. Screenshots go to test-artifacts/."""

import pytest
from playwright.sync_api import expect

from tests.conftest import build_world
from tests.e2e.test_login_browser import shot
from tests.e2e.test_target_flow_browser import as_user
from tests.test_dashboard import build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def data():
    return build(build_world())


def test_finance_dashboard_department_view_and_comparison(page, live_server, data):
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})
    as_user(page, base, "perf_admin")
    page.goto(f"{base}/results/dashboard/?year=2025")
    coverage = page.locator("#panel-coverage")
    expect(coverage.locator("canvas")).to_be_visible()
    expect(coverage.locator("#table-coverage")).to_be_hidden()
    assert page.evaluate("Chart.getChart(document.querySelector('#panel-coverage canvas')).data.datasets[0].data") == [
        80,
        60,
        60,
        40,
    ]
    ranking = page.locator("#panel-ranking")
    ranking.locator("[data-view=table]").click()
    expect(ranking.locator("#table-ranking")).to_be_visible()
    expect(ranking.locator("#table-ranking tbody tr").first).to_contain_text("74.47")
    with page.expect_download() as download:
        page.click("#excel-execution")
    assert download.value.suggested_filename.endswith(".xlsx") and "预算执行进度" in download.value.suggested_filename
    shot(page, "dashboard-finance")

    page.click("#compare-link")
    expect(page.locator("#table-compare")).to_be_visible()  # the comparison keeps its table below the chart
    expect(page.locator("#panel-compare canvas")).to_be_visible()
    shot(page, "dashboard-compare")

    as_user(page, base, "edu_approver")
    page.goto(f"{base}/results/dashboard/?year=2025")
    expect(page.locator("h1")).to_contain_text("本部门绩效分析")
    expect(page.locator("#panel-ranking")).to_have_count(0)
    expect(page.locator("#compare-link")).to_have_count(0)
    page.locator("#panel-execution [data-view=table]").click()
    expect(page.locator("#table-execution")).to_contain_text("青岛第二中学")
    shot(page, "dashboard-department")
