"""Headless Chromium: a unit reports an indicator at risk, the department submits, finance sees the
warning, puts the fund under key monitoring with 暂缓拨款, and the fund page shows the flag."""

from datetime import date
from decimal import Decimal

import pytest

from apps.indicators.models import LibraryIndicator
from apps.indicators.reference import load_indicators
from apps.monitoring import services as monitoring
from apps.monitoring.models import MonitoringReport
from apps.orgs.models import FiscalYear
from tests.conftest import build_world
from tests.e2e.test_login_browser import shot
from tests.e2e.test_target_flow_browser import as_user
from tests.test_targets_flow import approve_all_the_way, filed_target, make_fund

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def report():
    world = build_world()
    load_indicators(LibraryIndicator)
    year = FiscalYear.objects.get_or_create(year=2026, defaults={"is_current": True})[0]
    approve_all_the_way(world, filed_target(world, make_fund(world, year)))
    monitoring.round_open(
        actor=world.perf_admin,
        organization=world.city_finance,
        fiscal_year=year,
        data_as_of=date(2026, 7, 31),
        due_on=date(2026, 8, 15),
    )
    return MonitoringReport.objects.get()


def test_report_at_risk_then_key_monitoring_suspends_payment(page, live_server, report):
    base = live_server.url
    as_user(page, base, "edu_unit_filler")
    page.goto(f"{base}/monitoring/reports/{report.pk}/edit/")
    page.fill("#executed_wan", "120")
    rows = list(report.progress.select_related("indicator").order_by("indicator__sort_order"))
    for i, row in enumerate(rows):
        prefix = f"p{row.pk}-"
        if row.indicator.comparison == "qualitative":
            page.fill(f'[name="{prefix}progress_text"]', "按计划推进")
        else:
            page.fill(f'[name="{prefix}progress_value"]', "1")
            expected = "1000" if i == 0 else f"{row.indicator.target_value.normalize():f}"
            page.fill(f'[name="{prefix}expected_value"]', expected)
        page.select_option(f'[name="{prefix}likelihood"]', "possible" if i == 0 else "certain")
    page.click("#report-save")  # at risk without cause and measure: refused
    page.wait_for_selector("#report-errors")
    assert "请选择偏差原因" in page.locator("#report-errors").inner_text()
    first = f"p{rows[0].pk}-"
    page.select_option(f'[name="{first}deviation_cause"]', "funding")
    page.fill(f'[name="{first}corrective_measure"]', "申请追加资金，加快发放")
    shot(page, "monitoring-01-report-form")
    page.click("#report-save-send")
    page.wait_for_selector("#report-status")

    as_user(page, base, "edu_approver")
    page.goto(f"{base}/monitoring/reports/{report.pk}/")
    page.click("#report-submit")
    page.wait_for_selector("#messages")

    as_user(page, base, "perf_admin")
    page.goto(f"{base}/monitoring/warnings/")
    assert report.fund.name in page.locator("#warnings").inner_text()
    shot(page, "monitoring-02-warnings")
    page.goto(f"{base}/monitoring/key/?q={report.fund.name}")
    page.check(f'input[name="fund"][value="{report.fund_id}"]')
    page.click("#key-select")
    page.wait_for_selector("#key-funds")
    row = page.locator("#key-funds tr", has_text=report.fund.name)
    row.locator('select[name="measure"]').select_option("suspend")
    row.locator('input[name="reason"]').fill("指标预计难以完成，暂缓拨付剩余资金")
    row.locator("button").click()
    page.wait_for_selector("#messages")
    shot(page, "monitoring-03-key-measure")
    page.goto(f"{base}/funds/{report.fund_id}/")
    assert "暂缓拨款" in page.locator(".payment-flag").inner_text()
    shot(page, "monitoring-04-fund-flag")
    report.refresh_from_db()
    assert report.status == "submitted" and report.executed_amount == Decimal("1200000.00")
