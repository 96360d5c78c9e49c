"""Headless Chromium: the auditor records an audit finding (a wrong amount is refused first) and a
referral; 教育局's approver opens its finding and its rectification but is refused the referral
list, which the menu does not offer; 财政局领导 reads the referral."""

import pytest
from playwright.sync_api import expect

from apps.orgs.models import FiscalYear
from apps.supervision.models import AuditFinding
from tests.conftest import build_world
from tests.e2e.test_login_browser import shot
from tests.e2e.test_target_flow_browser import as_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    w = build_world()
    FiscalYear.objects.get_or_create(year=2026, defaults={"is_current": True})
    return w


def test_finding_and_referral_seen_only_by_the_right_people(page, live_server, world):
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})
    as_user(page, base, "auditor")
    page.goto(f"{base}/supervision/findings/")
    page.click("#finding-new")
    page.select_option("#id_organization", str(world.edu.pk))
    page.fill("#id_source_audit", "青审报〔2026〕30号")
    page.fill("#id_problem", "校舍改造资金结存超过一年未使用")
    page.fill("#id_amount_involved", "三百万")
    page.fill("#id_deadline", "2026-12-31")
    page.click("#finding-save")
    expect(page.locator("#finding-form")).to_contain_text("涉及金额应为数字（元）")
    assert not AuditFinding.objects.exists()
    page.fill("#id_amount_involved", "3200000")
    shot(page, "audit-01-finding-form")
    page.click("#finding-save")
    expect(page.locator("#finding-facts")).to_contain_text("320.00 万元")
    expect(page.locator("#finding-rectification")).to_contain_text("待整改")
    shot(page, "audit-02-finding-detail")
    finding = AuditFinding.objects.get()

    page.goto(f"{base}/supervision/referrals/new/")
    page.fill("#id_referred_on", "2026-11-20")
    page.fill("#id_subject", "教育局校舍资金违规问题")
    page.select_option("#id_finding", str(finding.pk))
    page.fill("#id_summary", "涉嫌虚列支出，移送市纪委监委。")
    page.click("#referral-save")
    expect(page.locator("#referral-facts")).to_contain_text("涉嫌虚列支出")
    shot(page, "audit-03-referral")

    as_user(page, base, "edu_approver")
    expect(page.locator("#main-nav")).not_to_contain_text("移送线索")
    page.goto(f"{base}/supervision/findings/{finding.pk}/")
    expect(page.locator("#finding-facts")).to_contain_text("校舍改造资金")
    expect(page.locator("body")).not_to_contain_text("纪委")
    page.click("#finding-rectification a")
    expect(page.locator("body")).to_contain_text("青审报〔2026〕30号")
    expect(page.locator("body")).not_to_contain_text("虚列支出")
    response = page.goto(f"{base}/supervision/referrals/")
    assert response.status == 403
    shot(page, "audit-04-department-refused")

    as_user(page, base, "finance_leader")
    page.goto(f"{base}/supervision/referrals/")
    expect(page.locator("#referral-table")).to_contain_text("教育局校舍资金违规问题")
    expect(page.locator("#referral-new")).to_have_count(0)
