"""Headless Chromium: finance (perf_admin) raises 整改 from a confirmed self-evaluation; 青岛第二中学's
filler saves measures and progress, is refused without evidence, uploads a file and submits;
finance reopens with a comment, the unit submits again and finance accepts. The list shows the
counts, the real status with a red 逾期 badge beside it and the table per department."""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.evaluations import services as self_services
from apps.evaluations.models import SelfEvaluation
from apps.orgs.models import FiscalYear
from apps.results.models import Rectification
from tests.conftest import build_world
from tests.e2e.test_login_browser import shot
from tests.e2e.test_target_flow_browser import as_user
from tests.test_rectification import PDF
from tests.test_selfeval_flow import send_ready
from tests.test_targets_flow import approve_all_the_way, filed_target, make_fund

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def confirmed():
    world = build_world()
    FiscalYear.objects.get_or_create(year=2026, defaults={"is_current": True})
    year = FiscalYear.objects.get_or_create(year=2025)[0]
    approve_all_the_way(world, filed_target(world, make_fund(world, year, code="EDU-2025-001")))
    self_services.round_open(
        actor=world.perf_admin, organization=world.city_finance, fiscal_year=year, due_on=date(2026, 3, 31)
    )
    evaluation = SelfEvaluation.objects.get()
    send_ready(world, evaluation)
    for name, actor in (("send", world.edu_unit_filler), ("submit", world.edu_approver), ("confirm", world.perf_admin)):
        self_services.evaluation_transition(actor=actor, evaluation=evaluation, name=name)
    return evaluation


def test_raise_fill_submit_reopen_accept(page, live_server, confirmed, tmp_path):
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})
    deadline = timezone.localdate() + timedelta(days=60)

    as_user(page, base, "perf_admin")
    page.goto(f"{base}/evaluations/self/{confirmed.pk}/")
    page.click("#rectification-raise")
    expect(page.locator("#shortfalls")).to_contain_text("资金发放及时率")
    page.fill("#id_deadline", deadline.isoformat())
    shot(page, "rectification-01-raise-from-self-evaluation")
    page.click("#raise-submit")
    expect(page.locator("#rectification-panel")).to_contain_text("资金发放及时率")
    assert Rectification.objects.count() == 3
    # One of them fell behind: its deadline has passed.
    late = Rectification.objects.order_by("pk").first()
    Rectification.objects.filter(pk=late.pk).update(deadline=timezone.localdate() - timedelta(days=3))
    item = Rectification.objects.filter(source_reference="自评指标：资金发放及时率").get()

    as_user(page, base, "edu_unit_filler")
    page.goto(f"{base}/results/rectifications/{item.pk}/")
    page.fill("#id_measures", "提前一个月核对学生名单，按月通报发放进度")
    page.fill("#id_progress_note", "已完成 2026 年春季学期名单核对，资金于开学两周内发放完毕")
    page.click("#fill-save")
    expect(page.locator("#rectification-status")).to_contain_text("整改中")
    page.click("#rectification-submit")
    expect(page.locator(".alert")).to_contain_text("请至少上传一份整改佐证材料")
    evidence = tmp_path / "整改佐证.pdf"
    evidence.write_bytes(PDF)
    page.set_input_files(".attachment-upload input[type=file]", str(evidence))
    page.click(".attachment-upload button[type=submit]")
    expect(page.locator(".attachment-list")).to_contain_text("整改佐证.pdf")
    shot(page, "rectification-02-unit-fills-with-evidence")
    page.click("#rectification-submit")
    expect(page.locator("#rectification-status")).to_contain_text("待核实")

    as_user(page, base, "perf_admin")
    page.goto(f"{base}/results/rectifications/{item.pk}/")
    page.click("#rectification-reopen")
    expect(page.locator("#verify-form")).to_contain_text("执行“重新整改”必须填写意见。")
    page.fill("#id_comment", "请补充名单核对记录和发放台账")
    page.click("#rectification-reopen")
    expect(page.locator("#rectification-status")).to_contain_text("整改中")
    expect(page.locator("#reopen-count")).to_contain_text("1")

    as_user(page, base, "edu_unit_filler")
    page.goto(f"{base}/results/rectifications/{item.pk}/")
    expect(page.locator("#reopen-comment")).to_contain_text("请补充名单核对记录")
    page.click("#rectification-submit")
    expect(page.locator("#rectification-status")).to_contain_text("待核实")

    as_user(page, base, "perf_admin")
    page.goto(f"{base}/results/rectifications/{item.pk}/")
    page.fill("#id_comment", "整改到位，同意销号")
    page.click("#rectification-accept")
    expect(page.locator("#rectification-status")).to_contain_text("已完成")
    expect(page.locator("#history")).to_contain_text("待核实 → 已完成")
    shot(page, "rectification-03-accepted-with-history")

    page.goto(f"{base}/results/rectifications/")
    expect(page.locator('[data-count="overdue"]')).to_have_text("1")
    expect(page.locator('[data-count="done"]')).to_have_text("1")
    expect(page.locator("#rectifications tr.overdue")).to_have_count(1)
    overdue_row = page.locator("#rectifications tr.overdue")
    expect(overdue_row.locator(".status-badge")).to_have_text("待整改")  # the real status …
    expect(overdue_row.locator(".overdue-badge")).to_have_text("逾期")  # … and 逾期 beside it, in red
    assert "text-bg-danger" in overdue_row.locator(".overdue-badge").get_attribute("class")
    expect(page.locator("#overdue-by-department")).to_contain_text("青岛市教育局")
    shot(page, "rectification-04-list")
    item.refresh_from_db()
    assert item.status == "done" and item.reopen_count == 1
