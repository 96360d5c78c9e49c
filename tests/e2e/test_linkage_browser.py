"""Headless Chromium: finance opens the 安排 list, sees why a row cannot be arranged (the budget
gate), types an amount that departs from the suggestion without a reason and sees the refusal in
the row (htmx swaps it in although nothing was arranged), then gives the reason and arranges."""

import pytest
from playwright.sync_api import expect

from apps.funds.models import SpecialFund
from apps.results.models import BudgetDecision
from tests.conftest import build_world
from tests.e2e.test_login_browser import shot
from tests.e2e.test_target_flow_browser import as_user
from tests.test_linkage import chain, fund

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def funds():
    world = build_world()
    _, _, free = chain(world, "70", base="1000000", requested="1200000")
    blocked = fund(world, 2027, "P-2027-01")
    SpecialFund.objects.filter(pk=blocked.pk).update(is_new_major_policy=True)
    return free, blocked


def test_arrange_errors_and_gate_blockers_show_in_the_row(page, live_server, funds):
    free, blocked = funds
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})
    as_user(page, base, "perf_admin")
    page.goto(f"{base}/results/linkage/arrange/?year=2027")

    blocked_row = page.locator(f"#arrange-row-{blocked.pk}")
    expect(blocked_row.locator(".arrange-blockers")).to_contain_text("属于新增重大政策，事前绩效评估尚未完成")
    expect(blocked_row.locator("button")).to_be_disabled()

    row = page.locator(f"#arrange-row-{free.pk}")
    row.locator("input[name$=amount_wan]").fill("100")
    row.locator("button").click()
    error = page.locator(f"#arrange-row-{free.pk} .arrange-error")
    expect(error).to_contain_text("请填写“偏离建议的理由”")
    expect(page.locator(f"#arrange-row-{free.pk} input[name$=amount_wan]")).to_have_value("100")
    assert not BudgetDecision.objects.exists()
    shot(page, "linkage-arrange-refused")

    page.locator(f"#arrange-row-{free.pk} input[name$=reason]").fill("学位扩容，按申报安排")
    page.locator(f"#arrange-row-{free.pk} button").click()
    expect(page.locator(f"#arrange-row-{free.pk}")).to_contain_text("已安排")
    expect(page.locator(f"#arrange-row-{free.pk}")).to_contain_text("偏离建议")
    assert BudgetDecision.objects.get(fund=free).reason == "学位扩容，按申报安排"
    shot(page, "linkage-arrange-done")
