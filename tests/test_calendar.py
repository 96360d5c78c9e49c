"""The work calendar page: every deadline of the region and year (steps, rounds, per-item ones with
their reminder badge), scoped to the user; copying the city's calendar to the districts."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.evaluations.models import SelfEvaluationRound
from apps.monitoring.models import MonitoringRound
from apps.orgs import services
from apps.orgs.models import FiscalYear, Organization, Region, WorkCalendar, WorkStep
from apps.results.models import Rectification
from apps.targets.models import PerformanceTarget, TargetStatus
from tests.factories import OrganizationFactory
from tests.querycount import assert_constant_queries
from tests.test_targets_flow import make_fund

TODAY = date(2026, 11, 20)


@pytest.fixture
def frozen():
    with time_machine.travel(date(2026, 11, 20), tick=False):
        yield TODAY


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


def rectification(world, org, deadline, status=Rectification.Status.PENDING, problem="资助名单未公示"):
    return Rectification.objects.create(
        source=Rectification.Source.AUDIT, organization=org, fiscal_year_id=2026, problem=problem,
        deadline=deadline, status=status, created_by=world.perf_admin,
    )  # fmt: skip


def returned_target(world, year, org, resubmit_by, code):
    fund = make_fund(world, year, org=org, code=code)
    return PerformanceTarget.objects.create(
        fund=fund, organization=org, fiscal_year=year, status=TargetStatus.RETURNED, resubmit_by=resubmit_by,
        return_comment="指标值偏低",
    )  # fmt: skip


@pytest.fixture
def deadlines(world, year, frozen):
    """市本级: a step due in 5 days, a monitoring round due in 2, a self-evaluation round; items of
    青岛第二中学 (one due in 3 days, one overdue by 2, one done), of 卫健委's unit, of 市南区."""
    WorkCalendar.objects.create(organization=world.city_finance, fiscal_year=year, step="monitoring", due_on=days(5))
    WorkCalendar.objects.create(
        organization=world.shinan_finance_org, fiscal_year=year, step="monitoring", due_on=days(9)
    )
    MonitoringRound.objects.create(
        organization=world.city_finance,
        fiscal_year=year,
        name="2026年第三季度监控",
        data_as_of=days(-20),
        due_on=days(2),
    )
    SelfEvaluationRound.objects.create(
        organization=world.city_finance, fiscal_year=year, name="2026年度单位自评", due_on=date(2027, 3, 31)
    )
    return {
        "soon": rectification(world, world.edu_unit, days(3), problem="资助名单未公示"),
        "late": rectification(world, world.edu_unit, days(-2), Rectification.Status.IN_PROGRESS, "超范围支出"),
        "done": rectification(world, world.edu_unit, days(-5), Rectification.Status.DONE, "已整改完毕的问题"),
        "health": rectification(world, world.health_unit, days(4), problem="疫苗冷链台账缺失"),
        "shinan": rectification(world, world.shinan_edu_unit, days(-1), problem="市南区校舍维修超预算"),
        "target": returned_target(world, year, world.edu_unit, days(12), "EDU-2026-101"),
    }


def page(client, **params) -> str:
    response = client.get(reverse("orgs:calendar_list"), params)
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</table>", start)]


def test_a_unit_sees_its_region_steps_rounds_and_only_its_own_items(world, login, deadlines):
    html = page(login(world.edu_unit_filler))
    coming, overdue = section(html, "deadlines-coming"), section(html, "deadlines-overdue")
    assert "资助名单未公示" in coming and "7天内到期" in coming
    assert "重新报送绩效目标：EDU-2026-101" in coming and "2026年12月2日" in coming
    assert "超范围支出" in overdue and "已逾期2天" in overdue
    assert "已整改完毕的问题" not in html  # done: no deadline any more
    assert "疫苗冷链台账缺失" not in html and "市南区校舍维修超预算" not in html  # another unit's, another district's
    assert reverse("results:rectification_detail", args=[deadlines["soon"].pk]) in coming
    assert reverse("targets:target_detail", args=[deadlines["target"].pk]) in coming
    # The region's calendar, read-only: the step and the rounds with their dates and badges.
    assert "2026年11月25日" in html and "2026年第三季度监控" in html and "2026年度单位自评" in html
    assert reverse("monitoring:round_detail", args=[MonitoringRound.objects.get().pk]) in html
    assert "calendar/monitoring/edit" not in html and "calendar-copy" not in html
    assert "2026年11月29日" not in html  # 市南区's date


def test_finance_sees_the_region_and_a_district_only_its_own(world, login, deadlines):
    html = page(login(world.perf_admin))
    assert "疫苗冷链台账缺失" in html and "资助名单未公示" in html and "市南区校舍维修超预算" not in html
    assert "calendar/monitoring/edit" in html and 'id="calendar-copy"' in html
    shinan = page(login(world.shinan_edu_filler))
    assert "市南区校舍维修超预算" in section(shinan, "deadlines-overdue") and "已逾期1天" in shinan
    assert "资助名单未公示" not in shinan and "2026年第三季度监控" not in shinan
    assert "2026年11月29日" in shinan and "2026年11月25日" not in shinan


def test_badges_follow_the_region_reminder_rule(world, login, deadlines):
    from apps.reminders.models import ReminderRule

    ReminderRule.objects.create(organization=world.city_finance, days_before="2,1")
    coming = section(page(login(world.edu_unit_filler)), "deadlines-coming")
    assert "7天内到期" not in coming and "2天内到期" not in coming  # due in 3 days: not reminded yet
    ReminderRule.objects.filter(organization=world.city_finance).update(days_before="3")
    assert "3天内到期" in section(page(login(world.edu_unit_filler)), "deadlines-coming")


def test_the_calendar_page_runs_a_constant_number_of_queries(world, login, deadlines):
    client = login(world.perf_admin)
    n = iter(range(100))

    def grow():
        for _ in range(3):
            i = next(n)
            rectification(world, world.edu_unit, days(i % 20), problem=f"问题{i}")
            rectification(world, world.health_unit, days(-1 - i % 20), problem=f"逾期问题{i}")
            returned_target(world, FiscalYear.objects.get(pk=2026), world.edu_unit, days(i % 25), f"EDU-2026-2{i:02d}")

    grow()
    assert_constant_queries(lambda: page(client), grow, 20)


def test_lists_are_cut_at_fifty_rows_with_a_pointer(world, login, deadlines):
    for i in range(55):
        rectification(world, world.edu_unit, days(-3), problem=f"逾期问题{i}")
    overdue = section(page(login(world.edu_unit_filler)), "deadlines-overdue")
    assert overdue.count("<tr data-kind=") == 50 and "只显示最早的 50 项" in overdue


def test_outsiders_cannot_open_the_calendar(world, login):
    for persona in ("sysadmin", "expert_li", "security_admin"):
        assert login(getattr(world, persona)).get(reverse("orgs:calendar_list")).status_code == 403


# --- setting a step's dates -------------------------------------------------------------------------


def set_step(world, year, **fields):
    return services.calendar_entry_set(
        actor=world.perf_admin, organization=world.city_finance, fiscal_year=year, step="monitoring", **fields
    )


def test_the_service_says_whether_it_created_and_keeps_what_it_is_not_given(world, year):
    entry, created = set_step(world, year, due_on=date(2026, 8, 15), starts_on=date(2026, 8, 1), note="7月末数据")
    assert created is True
    same, created = set_step(world, year, due_on=date(2026, 8, 20))
    assert created is False and same.pk == entry.pk
    assert (same.starts_on, same.due_on, same.note) == (date(2026, 8, 1), date(2026, 8, 20), "7月末数据")
    cleared, _ = set_step(world, year, starts_on=None, note="")
    assert (cleared.starts_on, cleared.due_on, cleared.note) == (None, date(2026, 8, 20), "")
    kinds = list(AuditEvent.objects.filter(object_id=str(entry.pk)).order_by("pk").values_list("kind", flat=True))
    assert kinds == [AuditEvent.Kind.CREATE, AuditEvent.Kind.UPDATE, AuditEvent.Kind.UPDATE]
    set_step(world, year, due_on=date(2026, 8, 20))  # nothing changes: no audit row
    assert AuditEvent.objects.filter(object_id=str(entry.pk)).count() == 3


def test_a_new_step_needs_its_due_date(world, year):
    with pytest.raises(ValidationError) as exc:
        set_step(world, year, note="没有日期")
    assert exc.value.message_dict == {"due_on": ["请填写截止日期（due_on）。"]}
    assert not WorkCalendar.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"due_on": date(2024, 12, 31)}, "due_on", "截止日期（due_on）应在2025年1月1日至2027年12月31日之间"),
        ({"due_on": date(2028, 1, 1)}, "due_on", "截止日期（due_on）应在2025年1月1日至2027年12月31日之间"),
        ({"due_on": date(2026, 8, 15), "starts_on": date(2024, 8, 1)}, "starts_on", "开始日期（starts_on）应在"),
        ({"due_on": date(2026, 8, 15), "starts_on": date(2026, 8, 16)}, "starts_on",
         "开始日期（starts_on）不能晚于截止日期（due_on）。"),
    ],
)  # fmt: skip
def test_dates_outside_the_year_span_are_refused(world, year, fields, field, message):
    with pytest.raises(ValidationError) as exc:
        set_step(world, year, **fields)
    assert message in exc.value.message_dict[field][0]
    assert not WorkCalendar.objects.exists() and not AuditEvent.objects.filter(kind=AuditEvent.Kind.CREATE).exists()


def test_the_first_and_last_day_of_the_span_are_allowed(world, year):
    entry, _ = set_step(world, year, starts_on=date(2025, 1, 1), due_on=date(2027, 12, 31))
    assert (entry.starts_on, entry.due_on) == (date(2025, 1, 1), date(2027, 12, 31))


def test_the_page_refuses_a_date_outside_the_year_span(world, login, year):
    client = login(world.perf_admin)
    url = reverse("orgs:calendar_edit", args=["monitoring"])
    response = client.post(url, {"due_on": "2030-08-15"})
    assert response.status_code == 200
    assert "截止日期（due_on）应在2025年1月1日至2027年12月31日之间" in response.content.decode()
    assert not WorkCalendar.objects.exists()


# --- copying the city's calendar to the districts ---------------------------------------------------


@pytest.fixture
def city_calendar(world, year):
    for step, due in [("target_filing", date(2025, 10, 31)), ("monitoring", date(2026, 8, 15))]:
        WorkCalendar.objects.create(
            organization=world.city_finance, fiscal_year=year, step=step, due_on=due, starts_on=due - timedelta(days=14)
        )
    return year


@pytest.fixture
def laoshan(world):
    """A second district with its finance bureau (崂山区)."""
    return OrganizationFactory(
        code="T-LS-CZ", name="崂山区财政局", kind=Organization.Kind.FINANCE, region=Region.objects.get(code="370212")
    )


def copied() -> bool:
    return AuditEvent.objects.filter(comment__startswith="从市本级复制").exists()


def shinan_dates():
    return dict(
        WorkCalendar.objects.filter(organization__code="T-SN-CZ").values_list("step", "due_on")
    )  # fmt: skip


def test_copy_fills_only_missing_steps_unless_overwrite(world, city_calendar, laoshan):
    WorkCalendar.objects.create(
        organization=world.shinan_finance_org, fiscal_year=city_calendar, step="monitoring", due_on=date(2026, 8, 20)
    )
    result = services.calendar_copy(
        actor=world.perf_admin, fiscal_year=2026, regions=[world.shinan, laoshan.region], overwrite=False
    )
    assert (result.regions, result.added, result.overwritten) == (2, 3, 0)
    assert result.message == "已复制到 2 个区市，新增 3 项，覆盖 0 项。"
    assert shinan_dates() == {"target_filing": date(2025, 10, 31), "monitoring": date(2026, 8, 20)}  # its own date won
    assert WorkCalendar.objects.filter(organization=laoshan).count() == 2
    event = AuditEvent.objects.get(object_id=str(world.shinan_finance_org.pk))
    assert event.actor == world.perf_admin and "只补缺失" in event.comment
    assert event.changes == {"绩效目标申报": {"from": None, "to": "2025-10-17 至 2025-10-31"}}

    again = services.calendar_copy(actor=world.perf_admin, fiscal_year=2026, regions=[world.shinan], overwrite=True)
    assert (again.regions, again.added, again.overwritten) == (1, 0, 1)
    assert shinan_dates()["monitoring"] == date(2026, 8, 15)
    event = AuditEvent.objects.filter(object_id=str(world.shinan_finance_org.pk)).latest("occurred_at")
    assert event.changes == {"绩效运行监控": {"from": "2026-08-20", "to": "2026-08-01 至 2026-08-15"}}
    # Nothing left to change: no audit row, nothing counted.
    same = services.calendar_copy(actor=world.perf_admin, fiscal_year=2026, regions=[world.shinan], overwrite=True)
    assert (same.added, same.overwritten) == (0, 0)
    assert AuditEvent.objects.filter(object_id=str(world.shinan_finance_org.pk)).count() == 2


@pytest.mark.parametrize("persona", ["shinan_finance", "edu_filler", "sector_kjw", "auditor"])
def test_only_the_city_performance_division_copies(world, city_calendar, persona):
    with pytest.raises(PermissionDenied):
        services.calendar_copy(actor=getattr(world, persona), fiscal_year=2026, regions=[world.shinan])
    assert not shinan_dates() and not copied()


def test_bad_copies_change_nothing(world, city_calendar, year):
    nowhere = Region.objects.get(code="370285")  # 莱西市: no finance bureau in the test world
    cases = [
        ({"regions": []}, "regions", "请选择要复制到的区市"),
        ({"regions": [world.city]}, "regions", "不能复制到市本级"),
        ({"regions": [world.shinan, nowhere]}, "regions", "莱西市尚未设置财政局"),
        ({"regions": [world.shinan], "fiscal_year": 2027}, "fiscal_year", "预算年度不存在"),
    ]
    FiscalYear.objects.create(year=2025, is_closed=True)
    cases.append(({"regions": [world.shinan], "fiscal_year": 2025}, "fiscal_year", "已结账"))
    for kwargs, field, message in cases:
        kwargs = {"fiscal_year": 2026, **kwargs}
        with pytest.raises(ValidationError) as exc:
            services.calendar_copy(actor=world.perf_admin, **kwargs)
        assert message in " ".join(exc.value.message_dict[field]), kwargs
    assert not shinan_dates() and not copied()


def test_nothing_to_copy_without_the_city_calendar(world, year):
    with pytest.raises(ValidationError) as exc:
        services.calendar_copy(actor=world.perf_admin, fiscal_year=year, regions=[world.shinan])
    assert "市本级尚未设置2026年度的工作日历" in exc.value.message_dict["fiscal_year"][0]


def test_copy_form_on_the_page(world, login, city_calendar, laoshan):
    client = login(world.perf_admin)
    html = page(client)
    form = html[html.index('id="calendar-copy-form"') : html.index("</form>", html.index('id="calendar-copy-form"'))]
    assert "复制市本级工作日历到区市" in html and "市南区" in form and "崂山区" in form and "莱西市" not in form
    url = reverse("orgs:calendar_copy")
    refused = client.post(url, {"fiscal_year": 2026})
    assert refused.status_code == 200 and "请选择要复制到的区市，或勾选“全部区市”" in refused.content.decode()
    assert not shinan_dates()
    both = client.post(url, {"fiscal_year": 2026, "all_districts": "on", "regions": [world.shinan.pk]})
    assert both.status_code == 200 and "请在指定区市和全部区市中二选一。" in both.content.decode()
    assert not shinan_dates() and not copied()
    done = client.post(url, {"fiscal_year": 2026, "all_districts": "on"}, follow=True)
    assert "已复制到 2 个区市，新增 4 项，覆盖 0 项" in done.content.decode()
    assert len(shinan_dates()) == 2 and WorkCalendar.objects.filter(organization=laoshan).count() == 2
    WorkCalendar.objects.filter(organization=world.shinan_finance_org, step="monitoring").update(
        due_on=date(2026, 9, 1)
    )
    done = client.post(url, {"fiscal_year": 2026, "regions": [world.shinan.pk], "overwrite": "on"}, follow=True)
    assert "已复制到 1 个区市，新增 0 项，覆盖 1 项" in done.content.decode()
    assert shinan_dates()["monitoring"] == date(2026, 8, 15)


@pytest.mark.parametrize("persona", ["shinan_finance", "edu_filler", "edu_unit_filler", "npc_liaison"])
def test_others_cannot_copy_through_the_page(world, login, city_calendar, persona):
    client = login(getattr(world, persona))
    response = client.post(reverse("orgs:calendar_copy"), {"fiscal_year": 2026, "all_districts": "on"})
    assert response.status_code == 403
    assert not shinan_dates() and not copied()
    assert "calendar-copy" not in page(client)


def test_each_step_of_the_calendar_is_listed(world, login, year):
    html = page(login(world.perf_admin))
    for step in WorkStep:
        assert f'data-step="{step.value}"' in html


# --- in the browser ----------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_calendar_in_the_browser(page, live_server):
    """青岛第二中学 sees its coming and overdue items with their badges; the city copies its calendar
    to every district with the form and reads the result message. Screenshots in test-artifacts/."""
    from playwright.sync_api import expect

    from tests.conftest import build_world
    from tests.e2e.test_login_browser import shot
    from tests.e2e.test_target_flow_browser import as_user

    world = build_world()
    year = FiscalYear.objects.get_or_create(year=2026, defaults={"is_current": True})[0]
    today = date.today()
    WorkCalendar.objects.create(
        organization=world.city_finance, fiscal_year=year, step="monitoring", due_on=today + timedelta(days=5)
    )
    WorkCalendar.objects.create(
        organization=world.city_finance, fiscal_year=year, step="self_evaluation", due_on=date(2027, 3, 31)
    )
    rectification(world, world.edu_unit, today + timedelta(days=3), problem="资助名单未按规定公示")
    rectification(world, world.edu_unit, today - timedelta(days=2), Rectification.Status.IN_PROGRESS, "超范围支出")
    returned_target(world, year, world.edu_unit, today + timedelta(days=12), "EDU-2026-101")
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})

    as_user(page, base, "edu_unit_filler")
    page.goto(f"{base}/orgs/calendar/")
    expect(page.locator("#deadlines-coming")).to_contain_text("资助名单未按规定公示")
    expect(page.locator("#deadlines-coming")).to_contain_text("7天内到期")
    expect(page.locator("#deadlines-overdue")).to_contain_text("已逾期2天")
    assert page.locator("#calendar-copy").count() == 0
    shot(page, "calendar-01-unit")

    as_user(page, base, "perf_admin")
    page.goto(f"{base}/orgs/calendar/")
    page.check("#id_all_districts")
    page.check("#id_overwrite")
    shot(page, "calendar-02-copy-form")
    page.click("#calendar-copy-form button")
    expect(page.locator("body")).to_contain_text("已复制到 1 个区市，新增 2 项，覆盖 0 项")
    shot(page, "calendar-03-copied")
    assert len(shinan_dates()) == 2


def test_an_item_the_unit_handed_in_is_not_shown_as_chased(world, login, deadlines):
    """A 待核实 rectification past its deadline waits on finance: a grey 待核实, not a red 已逾期."""
    Rectification.objects.filter(pk=deadlines["late"].pk).update(status=Rectification.Status.VERIFYING)
    overdue = section(page(login(world.edu_unit_filler)), "deadlines-overdue")
    assert "超范围支出" in overdue and "已逾期2天" not in overdue and "text-bg-secondary" in overdue
