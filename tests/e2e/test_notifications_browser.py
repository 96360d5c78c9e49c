"""Headless Chromium: the sweep reminds 青岛第二中学's filler (edu_unit_filler) of a real draft target
and two other items over two days; she sees the count on the bell, opens the list, clicks through
to the target, marks one day read (the bell goes down by one without a reload) and then all (the
count disappears). Screenshots: the bell with its count, the list, the list read."""

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from apps.orgs.models import FiscalYear, Organization
from apps.reminders import services
from apps.reminders import sources as registry
from apps.reminders.models import Notification
from apps.reminders.sources import OpenWork
from tests.conftest import build_world
from tests.e2e.test_login_browser import ARTIFACTS, shot
from tests.e2e.test_target_flow_browser import as_user
from tests.test_targets_flow import filed_target, make_fund

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DUE = date(2026, 12, 10)


@pytest.fixture
def reminded(monkeypatch):
    """Two sweeps (9 and 10 December) over a stand-in source: a real draft target due in 3 days,
    a monitoring report due on the 10th and a self-evaluation that was due on the 9th."""
    world = build_world()
    year = FiscalYear.objects.get_or_create(year=2026, defaults={"is_current": True})[0]
    target = filed_target(world, make_fund(world, year))
    unit = world.edu_unit.pk
    work = [
        OpenWork(Organization, target.pk, "target_filing", "target.edit", unit, DUE + timedelta(days=3),
                 f"填报绩效目标：{target.fund.code} {target.fund.name}", f"/targets/{target.pk}/"),
        OpenWork(Organization, 2, "monitoring", "target.edit", unit, DUE,
                 "填报绩效监控：2026年1—7月 家庭经济困难学生资助", "/monitoring/"),
        OpenWork(Organization, 3, "self_evaluation", "target.edit", unit, DUE - timedelta(days=1),
                 "提交单位自评：2025年度 校舍维修改造", "/monitoring/"),
    ]  # fmt: skip
    monkeypatch.setattr(registry, "SOURCES", {"test": lambda today, horizon, region_id=None: list(work)})
    services.sweep(DUE - timedelta(days=1))
    services.sweep(DUE)
    return world, target


def test_bell_list_click_through_and_mark_read(page, live_server, reminded):
    world, target = reminded
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    as_user(page, base, "edu_unit_filler")

    badge = page.locator("#notification-count")
    expect(badge).to_have_text("2条未读消息提醒")  # two days, both unread (the rest is for screen readers)
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("nav.navbar").screenshot(path=str(ARTIFACTS / "notifications-01-bell-with-count.png"))

    page.click("#notification-bell")
    expect(page).to_have_url(f"{base}/notifications/")
    cards = page.locator(".notification-card")
    expect(cards).to_have_count(2)
    newest = cards.nth(0)
    expect(newest.locator("h2")).to_have_text("2026年12月10日 催办提醒")
    expect(newest.locator(".unread-marker")).to_have_text("未读")
    expect(newest.locator(".item-count")).to_contain_text("共 3 项，其中 1 项已逾期")
    overdue = newest.locator(".notification-item").nth(0)
    expect(overdue.locator(".stage-badge")).to_have_text("已逾期1天")
    assert "text-bg-danger" in overdue.locator(".stage-badge").get_attribute("class")
    expect(newest.locator(".notification-item").nth(1).locator(".stage-badge")).to_have_text("今天到期")
    expect(newest.locator(".notification-item").nth(2)).to_contain_text("还有3天到期")
    expect(newest.locator(".notification-item").nth(2)).to_contain_text("截止日期：2026年12月13日")
    expect(cards.nth(1).locator("h2")).to_have_text("2026年12月9日 催办提醒")
    shot(page, "notifications-02-list")

    newest.locator("a.item-link", has_text="填报绩效目标").click()
    expect(page).to_have_url(f"{base}/targets/{target.pk}/")
    expect(page.locator("main")).to_contain_text(target.fund.name)

    page.click("#notification-bell")
    page.locator(".notification-card").nth(1).locator("button.mark-read").click()
    expect(badge).to_have_text("1条未读消息提醒")  # the bell follows without a reload
    expect(page.locator(".notification-card").nth(1)).to_contain_text("已读于")
    expect(page.locator("#unread-count")).to_have_text("1")

    page.click("#mark-all-read")
    expect(page.locator("#notification-count")).to_have_count(0)
    expect(page.locator(".unread-marker")).to_have_count(0)
    expect(page.locator("#unread-count")).to_have_text("0")
    shot(page, "notifications-03-all-read")
    assert not Notification.objects.filter(recipient=world.edu_unit_filler, read_at__isnull=True).exists()

    page.click('#notification-filter [data-filter="unread"]')
    expect(page.locator("#notification-empty")).to_have_text("没有未读的消息提醒。")
    page.reload()
    expect(page.locator("#notification-count")).to_have_count(0)  # still gone after a reload
    # The 2-minute refresh runs only while the person is using the page (idle logout stays intact).
    page.mouse.click(5, 300)
    assert page.evaluate("qdRecentlyActive()") is True
    assert errors == []


def test_channel_choice_in_the_profile(page, live_server, reminded):
    world, _ = reminded
    world.edu_unit_filler.email = "ezx_tianxie@example.cn"
    world.edu_unit_filler.save(update_fields=["email"])
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})
    as_user(page, base, "edu_unit_filler")
    page.click("text=个人设置")
    channels = page.locator("#reminder-channels")
    expect(channels.locator("#channel-in-app")).to_be_checked()
    expect(channels.locator("#channel-in-app")).to_be_disabled()
    expect(channels.locator("#channel-email")).to_be_checked()
    expect(channels).to_contain_text("邮件将发送至 ezx_tianxie@example.cn")
    channels.locator("#channel-email").uncheck()
    page.click("#channel-save")
    expect(page.locator("#messages")).to_contain_text("邮件提醒已关闭")
    expect(page.locator("#channel-email")).not_to_be_checked()
    page.locator("#reminder-channels").screenshot(path=str(ARTIFACTS / "notifications-04-profile-channels.png"))
