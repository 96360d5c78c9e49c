"""Headless Chromium: an anonymous visitor opens /public/, filters to key-evaluation reports, opens
the disclosed key evaluation and downloads its report; the same pages on a phone-sized viewport.
Screenshots: test-artifacts/public-*.png."""

import pytest
from playwright.sync_api import expect

from apps.orgs.models import FiscalYear
from apps.results import services_disclosure as services
from apps.results.models import Disclosure
from tests.conftest import build_world
from tests.e2e.test_login_browser import shot
from tests.test_disclosure import completed_key
from tests.test_key_evaluations import make_fund

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
K = Disclosure.Kind


@pytest.fixture
def published():
    world = build_world()
    for y in range(2021, 2027):
        FiscalYear.objects.get_or_create(year=y, defaults={"is_current": y == 2026, "is_closed": y < 2026})
    evaluation, report = completed_key(world, make_fund(world, 2025, "EDU-2025-01", amount="2500000"))
    key = services.disclosure_publish(actor=world.perf_admin, kind=K.KEY_EVALUATION, record=evaluation, report=report)
    for i in range(3):
        fund = make_fund(world, 2026, f"EDU-2026-0{i}")
        services.disclosure_publish(actor=world.perf_admin, kind=K.TARGET, record=fund.targets.get())
    hidden = make_fund(world, 2026, "EDU-2026-SECRET")
    services.disclosure_publish(actor=world.perf_admin, kind=K.TARGET, record=hidden.targets.get())
    hidden.is_classified = True
    hidden.save(update_fields=["is_classified"])
    return key


def test_anonymous_visitor_filters_opens_a_report_and_downloads_it(page, live_server, published):
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{base}/public/")
    results = page.locator("#public-results .pub-item")
    expect(results).to_have_count(4)  # the 涉密 fund's target is not there
    expect(page.locator("#public-results")).not_to_contain_text("EDU-2026-SECRET")
    shot(page, "public-list-desktop")

    page.select_option("#id_kind", "key_evaluation")
    page.click("#public-search")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("财政重点评价报告")
    expect(results.first).to_contain_text("良")
    page.click("#public-results .pub-item a.fw-semibold")
    expect(page.locator("#public-title")).to_have_text(published.title)
    expect(page.locator("#pub-score")).to_have_text("83")
    expect(page.locator("#pub-dimensions")).to_contain_text("产出")
    shot(page, "public-detail-desktop")
    with page.expect_download() as download_info:
        page.click("#pub-report")
    download = download_info.value
    assert download.suggested_filename == "评价报告.pdf"
    with open(download.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(f"{base}/public/?q=EDU-2026-01")
    expect(results).to_have_count(1)
    shot(page, "public-list-phone")
    page.goto(f"{base}/public/disclosures/{published.pk}/")
    expect(page.locator("#pub-report")).to_be_visible()
    shot(page, "public-detail-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the page scrolls sideways on a phone ({width}px)"
