"""Headless Chromium: an anonymous visitor opens /public/, filters to key-evaluation reports, opens
the disclosed key evaluation and downloads its report (a one-page Chinese PDF that Chromium's viewer
opens); choosing a 区域 fills 主管部门 at once (and the 查询 button still works without JavaScript);
the self-evaluation page on a phone keeps its 8-column table readable by scrolling it sideways.
Screenshots: test-artifacts/public-*.png."""

from datetime import date
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from apps.evaluations import services as self_services
from apps.evaluations.demo_key import _report
from apps.evaluations.models import SelfEvaluation
from apps.orgs.models import FiscalYear
from apps.results import services_disclosure as services
from apps.results.models import Disclosure
from tests.conftest import build_world
from tests.e2e.test_login_browser import ARTIFACTS, shot
from tests.test_disclosure import completed_key
from tests.test_key_evaluations import make_fund
from tests.test_selfeval_flow import send_ready
from tests.test_targets_flow import approve_all_the_way, filed_target
from tests.test_targets_flow import make_fund as make_filed_fund

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
K = Disclosure.Kind


def _confirmed_self_evaluation(world, year):
    """A 2025 self-evaluation with shortfalls whose reasons end in 。 (as units type them), confirmed."""
    approve_all_the_way(world, filed_target(world, make_filed_fund(world, year, code="EDU-2025-SELF")))
    self_services.round_open(
        actor=world.perf_admin, organization=world.city_finance, fiscal_year=year, due_on=date(2026, 3, 31)
    )
    evaluation = SelfEvaluation.objects.get()
    send_ready(world, evaluation)
    evaluation.execution_reason, evaluation.execution_measure = "部分合同尾款待验收后支付。", "验收后及时支付。"
    evaluation.save(update_fields=["execution_reason", "execution_measure"])
    evaluation.lines.exclude(shortfall_reason="").update(shortfall_reason="部分学校名单延迟报送。")
    for name, actor in (("send", world.edu_unit_filler), ("submit", world.edu_approver), ("confirm", world.perf_admin)):
        self_services.evaluation_transition(actor=actor, evaluation=evaluation, name=name)
    return evaluation


@pytest.fixture
def published():
    world = build_world()
    FiscalYear.objects.get_or_create(year=2026, defaults={"is_current": True})
    self_eval = _confirmed_self_evaluation(world, FiscalYear.objects.get_or_create(year=2025)[0])
    for y in range(2021, 2027):
        FiscalYear.objects.get_or_create(year=y, defaults={"is_current": y == 2026, "is_closed": y < 2026})
    evaluation, report = completed_key(world, make_fund(world, 2025, "EDU-2025-01", amount="2500000"))
    with open(report.file.path, "wb") as handle:  # the demo's report file: a one-page PDF with Chinese text
        handle.write(_report(evaluation, None))
    key = services.disclosure_publish(actor=world.perf_admin, kind=K.KEY_EVALUATION, record=evaluation, report=report)
    for i in range(3):
        fund = make_fund(world, 2026, f"EDU-2026-0{i}")
        services.disclosure_publish(actor=world.perf_admin, kind=K.TARGET, record=fund.targets.get())
    hidden = make_fund(world, 2026, "EDU-2026-SECRET")
    services.disclosure_publish(actor=world.perf_admin, kind=K.TARGET, record=hidden.targets.get())
    hidden.is_classified = True
    hidden.save(update_fields=["is_classified"])
    shinan = make_fund(world, 2026, "SN-2026-01", dept=world.shinan_edu, unit=world.shinan_edu_unit)
    services.disclosure_publish(actor=world.shinan_finance, kind=K.TARGET, record=shinan.targets.get())
    services.disclosure_publish(actor=world.perf_admin, kind=K.SELF_EVALUATION, record=self_eval)
    return key


def test_anonymous_visitor_filters_opens_a_report_and_downloads_it(page, live_server, published):
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{base}/public/")
    results = page.locator("#public-results .pub-item")
    expect(results).to_have_count(6)  # the 涉密 fund's target is not there
    expect(page.locator("#public-results")).not_to_contain_text("EDU-2026-SECRET")
    shot(page, "public-list-desktop")

    page.select_option("#id_kind", "key_evaluation")
    page.click("#public-search")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("财政重点评价报告")
    expect(results.first).to_contain_text("良")
    page.click("#public-results .pub-item a.fw-semibold")
    expect(page.locator("#public-title")).to_have_text(published.title)
    expect(page.locator("#pub-score")).to_have_text("83.00")
    expect(page.locator("#pub-dimensions")).to_contain_text("产出")
    shot(page, "public-detail-desktop")
    with page.expect_download() as download_info:
        page.click("#pub-report")
    download = download_info.value
    assert download.suggested_filename == "评价报告.pdf"
    with open(download.path(), "rb") as handle:
        data = handle.read()
    assert data.startswith(b"%PDF-") and b"/Count 1" in data

    # Chromium's own PDF viewer opens it: one page, the Chinese title, the text drawn (screenshot).
    pdf = ARTIFACTS / "public-report.pdf"
    pdf.write_bytes(data)
    page.set_viewport_size({"width": 900, "height": 1000})
    page.goto(pdf.as_uri())
    page.wait_for_timeout(1500)
    viewer = next((f for f in page.frames if f.url.startswith("chrome-extension://")), None)
    assert viewer is not None, "Chromium did not open its PDF viewer"
    expect(viewer.locator("viewer-page-selector")).to_have_count(1)
    assert viewer.locator("viewer-page-selector").evaluate("e => e.docLength") == 1
    expect(viewer.locator("#title")).to_have_text("项目EDU-2025-01绩效评价报告")
    shot(page, "public-report-pdf")

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(f"{base}/public/?q=EDU-2026-01")
    expect(results).to_have_count(1)
    shot(page, "public-list-phone")
    page.goto(f"{base}/public/disclosures/{published.pk}/")
    expect(page.locator("#pub-report")).to_be_visible()
    shot(page, "public-detail-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the page scrolls sideways on a phone ({width}px)"


def test_choosing_a_region_fills_the_departments_at_once(page, live_server, published):
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{base}/public/")
    expect(page.locator("#id_department")).to_be_disabled()
    expect(page.locator("main")).not_to_contain_text("Choosing a")  # no template comment leaks
    with page.expect_navigation():
        page.select_option("#id_region", "370202")  # no click on 查询
    assert "region=370202" in page.url
    expect(page.locator("#id_department")).to_be_enabled()
    expect(page.locator("#id_department option")).to_contain_text(["全部", "市南区教育和体育局"])
    results = page.locator("#public-results .pub-item")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("市南区")
    shot(page, "public-region-filter")
    page.select_option("#id_department", label="市南区教育和体育局")
    page.click("#public-search")
    expect(results).to_have_count(1)
    with page.expect_navigation():  # another region: its departments, the old department dropped
        page.select_option("#id_region", "370200")
    query = parse_qs(urlparse(page.url).query)
    assert query["region"] == ["370200"] and not query.get("department")
    expect(page.locator("#id_department option")).to_contain_text(["全部", "青岛市教育局"])
    expect(results).to_have_count(5)


def test_the_filter_works_without_javascript(browser, live_server, published):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/public/")
    page.select_option("#id_region", "370202")
    assert "region=" not in page.url  # nothing happens by itself …
    page.click("#public-search")  # … the 查询 button does it
    assert "region=370202" in page.url
    expect(page.locator("#id_department option")).to_contain_text(["全部", "市南区教育和体育局"])
    expect(page.locator("#public-results .pub-item")).to_have_count(1)
    context.close()


def test_self_evaluation_on_a_phone_scrolls_its_wide_table(page, live_server, published):
    """390×844: the page itself does not scroll sideways; the 8-column table does, inside its card,
    with indicator names on one or two lines instead of two characters a line; no 。； anywhere."""
    disclosure = Disclosure.objects.get(kind=K.SELF_EVALUATION)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/public/disclosures/{disclosure.pk}/")
    expect(page.locator("#pub-lines")).to_be_visible()
    expect(page.locator("#pub-scroll-hint")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    box = page.locator("#pub-lines-wrap")
    assert box.evaluate("e => e.scrollWidth > e.clientWidth + 100"), "the table should scroll inside its card"
    widths = page.locator("#pub-lines thead th").evaluate_all("ths => ths.map(th => th.getBoundingClientRect().width)")
    assert len(widths) == 8 and min(widths) >= 56, widths  # ≥ 4 characters a line
    name_cell = page.locator("#pub-lines tbody tr").first.locator("td").nth(2)
    assert name_cell.evaluate("td => td.getBoundingClientRect().height") < 60  # at most about two lines
    text = page.locator("main").inner_text()
    assert "。；" not in text and "部分合同尾款待验收后支付；" in text
    page.locator("#pub-lines").scroll_into_view_if_needed()
    shot(page, "public-selfeval-phone")
    box.evaluate("e => e.scrollLeft = e.scrollWidth")
    shot(page, "public-selfeval-phone-scrolled")
