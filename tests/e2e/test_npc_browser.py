"""Headless Chromium: the NPC liaison opens 报人大报表, requests a workbook, watches the progress bar
finish, downloads the file (Chinese name with the date) and the test opens it with openpyxl; the
export then appears in the history."""

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from apps.core.models import BackgroundJob
from apps.funds import services as fund_services
from apps.orgs.models import FiscalYear
from tests.conftest import build_world
from tests.e2e.test_login_browser import shot
from tests.e2e.test_target_flow_browser import as_user
from tests.test_targets_flow import approve_all_the_way, filed_target, make_fund

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def reported(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    world = build_world()
    year = FiscalYear.objects.get_or_create(year=2026, defaults={"is_current": True})[0]
    funds = []
    for code, name in [("EDU-2026-001", "家庭经济困难学生资助"), ("EDU-2026-002", "学前教育普惠补助")]:
        fund = make_fund(world, year, code=code, name=name)
        approve_all_the_way(world, filed_target(world, fund))
        fund_services.fund_submit(actor=world.edu_approver, fund=fund)
        funds.append(fund_services.fund_arrange(actor=world.perf_admin, fund=fund, comment="同意"))
    return funds


def test_npc_liaison_requests_watches_and_downloads_the_workbook(page, live_server, reported, tmp_path):
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})
    as_user(page, base, "npc_liaison")
    page.goto(f"{base}/results/npc/")
    expect(page.locator("h1")).to_contain_text("报人大报表")
    expect(page.locator("#id_region option")).to_have_count(1)  # its own region only
    expect(page.locator("#id_region")).to_have_value("370200")
    page.select_option("#id_year", "2026")
    expect(page.locator("#npc-history")).to_contain_text("本机构还没有导出过报人大报表")
    shot(page, "npc-01-form")

    page.click("#npc-submit")
    expect(page.locator("#job-progress")).to_be_visible()
    expect(page.locator("#job-progress")).to_have_attribute("data-status", "done", timeout=30000)
    expect(page.locator("#job-bar")).to_have_text("100%")
    expect(page.locator("#job-message")).to_contain_text("项目绩效目标 2 个项目、12 个指标")
    expect(page.locator("#npc-history")).to_contain_text("青岛市市本级2026年度报人大绩效报表")
    shot(page, "npc-02-done")

    day = timezone.localdate().strftime("%Y%m%d")
    with page.expect_download() as info:
        page.click("#job-download")
    download = info.value
    assert download.suggested_filename == f"青岛市市本级2026年度报人大绩效报表_{day}.xlsx"
    path = tmp_path / "npc.xlsx"
    download.save_as(path)
    wb = load_workbook(path)
    assert wb.sheetnames == ["封面", "项目绩效目标表", "财政重点评价结果表", "部门整体绩效目标和评价表",
                             "汇总表（按部门）", "汇总表（按评价等级）"]  # fmt: skip
    ws = wb["项目绩效目标表"]
    assert ws["A1"].value == "青岛市市本级2026年度项目绩效目标表"
    assert {ws["C5"].value, ws.cell(11, 3).value} == {f.name for f in reported}
    assert ws.cell(17, 1).value == "合计（2 个项目，12 个指标）" and ws.cell(17, 8).value == 600  # 2 × 300 万元

    job = BackgroundJob.objects.get()
    assert job.status == "done" and job.created_by.username == "npc_liaison"
    page.goto(f"{base}/results/npc/")
    expect(page.locator("#npc-history tbody tr")).to_have_count(1)
    expect(page.locator("#npc-history")).to_contain_text(job.created_by.display_name)
    shot(page, "npc-03-history")
