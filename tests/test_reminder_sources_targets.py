"""Reminders of target work through the sweep: filing (unit), department review, finance review —
due dates from the region's work calendar, or a returned target's resubmission date."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType

from apps.core import permissions
from apps.funds.models import SpecialFund
from apps.orgs.models import FiscalYear, WorkCalendar, WorkStep
from apps.reminders import services as reminders
from apps.reminders.models import Reminder
from apps.reminders.sources import Party
from apps.targets import services
from apps.targets.models import PerformanceTarget
from apps.targets.reminder_sources import open_targets
from tests.querycount import assert_constant_queries
from tests.test_targets_flow import GOOD_ROWS, approve_all_the_way, filed_target, make_fund

FILING = date(2026, 12, 10)
DEPT_REVIEW = date(2026, 12, 17)
FINANCE_REVIEW = date(2026, 12, 28)
R = Reminder.Reason


@pytest.fixture(autouse=True)
def frozen_clock():
    """Services date-check against today (a resubmission date may not be in the past): keep it fixed."""
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


# --- helpers shared with the monitoring and self-evaluation source tests ---------------------------------


def reminded(obj, **filters) -> set[str]:
    """Who has been reminded of ``obj`` (optionally at a stage, step, due date, reason)."""
    ct = ContentType.objects.get_for_model(type(obj))
    rows = Reminder.objects.filter(content_type=ct, object_id=obj.pk, **filters)
    return set(rows.values_list("recipient__username", flat=True))


def sweep_at(due: date, offset: int):
    return reminders.sweep(due + timedelta(days=offset))


def assert_index_agrees(works, model) -> None:
    """The sweep's batch recipients (``RecipientIndex``) are exactly ``users_who_can`` on the record."""
    index = permissions.RecipientIndex()
    records = model.objects.in_bulk([w.object_id for w in works])
    assert works
    for work in works:
        expected = set(permissions.users_who_can(work.action, records[work.object_id]).values_list("pk", flat=True))
        assert expected, work
        assert set(index.who_can(work.action, work.owner_id, work.model, work.object_id)) == expected, work


def assert_reminders_walk_the_stages(obj, due: date, *, step: str, unit: set[str], approver: str, finance: str):
    """Nothing 8 days before; the unit's people 7/3/1 days before and on the day; the approver from
    the first day overdue, the finance reviewer from the third."""
    sweep_at(due, -8)
    assert reminded(obj) == set()
    for stage in (-7, -3, -1, 0):
        sweep_at(due, stage)
        assert reminded(obj, stage=stage, step=step, due_on=due) == unit, stage
    sweep_at(due, 1)
    assert reminded(obj, stage=1) == {*unit, approver}
    assert reminded(obj, stage=1, reason=R.DEPARTMENT) == {approver}
    sweep_at(due, 2)
    assert reminded(obj, stage=2) == set()
    sweep_at(due, 3)
    assert reminded(obj, stage=3) == {*unit, approver, finance}
    assert reminded(obj, stage=3, reason=R.FINANCE) == {finance}


# --- fixtures ------------------------------------------------------------------------------------------------


def calendar(finance, year, filing=FILING, dept=DEPT_REVIEW, review=FINANCE_REVIEW):
    for step, due_on in (
        (WorkStep.TARGET_FILING, filing),
        (WorkStep.TARGET_DEPT_REVIEW, dept),
        (WorkStep.TARGET_FINANCE_REVIEW, review),
    ):
        WorkCalendar.objects.create(organization=finance, fiscal_year=year, step=step, due_on=due_on)


@pytest.fixture
def city_calendar(world, year):
    calendar(world.city_finance, year)


@pytest.fixture
def draft(world, year, city_calendar):
    return filed_target(world, make_fund(world, year, code="A001", name="学前教育资助"))


OUTSIDERS = {"health_filler", "shinan_finance", "shinan_edu_filler", "npc_liaison", "auditor", "perf_admin"}


# --- filing ----------------------------------------------------------------------------------------------------


def test_a_draft_is_reminded_to_the_unit_then_escalates(world, draft):
    assert_reminders_walk_the_stages(
        draft, FILING, step=WorkStep.TARGET_FILING, unit={"edu_unit_filler", "edu_filler"},
        approver="edu_approver", finance="sector_kjw",
    )  # fmt: skip
    reminder = Reminder.objects.filter(object_id=draft.pk).first()
    assert reminder.title == "填报绩效目标：A001 学前教育资助"
    assert reminder.url == f"/targets/{draft.pk}/"
    assert not reminded(draft) & OUTSIDERS  # no other department, district or reader hears of it


def test_a_department_target_is_titled_like_the_todo_and_goes_to_the_department(world, year, city_calendar):
    target = services.department_target_start(actor=world.edu_filler, department=world.edu, fiscal_year=year)
    sweep_at(FILING, 0)
    assert reminded(target) == {"edu_filler"}  # the unit below the department has nothing to do with it
    assert Reminder.objects.get(object_id=target.pk).title == "填报绩效目标：青岛市教育局部门整体绩效目标"


def test_once_sent_the_unit_hears_nothing_and_each_next_actor_gets_theirs(world, draft):
    sweep_at(FILING, -7)
    services.target_send(actor=world.edu_unit_filler, target=draft)
    sweep_at(FILING, -3)
    assert reminded(draft) == {"edu_unit_filler", "edu_filler"}  # only the -7 ones: nothing since
    assert reminded(draft, stage__gt=-7) == set()  # and the department review is not due yet

    sweep_at(FILING, 0)  # the filing day: a week before the department's date
    assert reminded(draft, step=WorkStep.TARGET_FILING, stage=0) == set()
    assert reminded(draft, step=WorkStep.TARGET_DEPT_REVIEW) == {"edu_approver"}
    sweep_at(DEPT_REVIEW, 3)  # overdue at the department: finance hears of it
    assert reminded(draft, step=WorkStep.TARGET_DEPT_REVIEW, stage=3) == {"edu_approver", "sector_kjw"}

    services.target_submit(actor=world.edu_approver, target=draft)
    sweep_at(FINANCE_REVIEW, -1)
    assert reminded(draft, step=WorkStep.TARGET_FINANCE_REVIEW) == {"sector_kjw"}
    services.target_pass(actor=world.sector_kjw, target=draft)
    sweep_at(FINANCE_REVIEW, 5)  # finance's own work does not escalate
    assert reminded(draft, step=WorkStep.TARGET_FINANCE_REVIEW, stage=3) == {"perf_admin"}

    services.target_approve(actor=world.perf_admin, target=draft)
    before = Reminder.objects.count()
    sweep_at(FINANCE_REVIEW, 6)
    assert Reminder.objects.count() == before


def test_a_returned_target_is_reminded_against_its_resubmission_date(world, draft):
    services.target_send(actor=world.edu_unit_filler, target=draft)
    services.target_submit(actor=world.edu_approver, target=draft)
    resubmit = FILING + timedelta(days=14)
    services.target_return(actor=world.sector_kjw, target=draft, comment="请细化", resubmit_by=resubmit)
    sweep_at(FILING, 3)  # the filing date has passed, but the unit has until the resubmission date
    assert reminded(draft) == set()
    sweep_at(resubmit, -7)
    assert reminded(draft, stage=-7, due_on=resubmit, step=WorkStep.TARGET_FILING) == {"edu_unit_filler", "edu_filler"}
    assert Reminder.objects.get(object_id=draft.pk, recipient=world.edu_filler).title == (
        "修改并重新报送绩效目标：A001 学前教育资助"
    )
    sweep_at(resubmit, 1)
    assert reminded(draft, stage=1) == {"edu_unit_filler", "edu_filler", "edu_approver"}


def test_a_returned_target_without_a_date_keeps_the_filing_date(world, draft):
    services.target_send(actor=world.edu_unit_filler, target=draft)
    services.target_return(actor=world.edu_approver, target=draft, comment="请细化")
    sweep_at(FILING, 0)
    assert reminded(draft, stage=0, due_on=FILING) == {"edu_unit_filler", "edu_filler"}


def test_an_adjustment_has_no_calendar_deadline_only_its_resubmission_date(world, draft):
    approved = approve_all_the_way(world, draft)
    v2 = services.target_adjust(actor=world.edu_unit_filler, target=approved, reason="预算调减")
    sweep_at(FILING, 1)
    assert reminded(v2) == set() and reminded(approved) == set()
    services.target_send(actor=world.edu_unit_filler, target=v2)
    services.target_return(actor=world.edu_approver, target=v2, comment="调减幅度有误", resubmit_by=date(2026, 12, 1))
    sweep_at(date(2026, 12, 1), -3)
    assert reminded(v2, stage=-3) == {"edu_unit_filler", "edu_filler"}


# --- years, regions --------------------------------------------------------------------------------------------


def test_a_closed_year_is_not_reminded(world, year, draft):
    FiscalYear.objects.filter(pk=year.pk).update(is_closed=True)
    sweep_at(FILING, 0)
    assert reminded(draft) == set()


@pytest.fixture
def district_draft(world, year):
    fund = make_fund(world, year, org=world.shinan_edu_unit, actor=world.shinan_edu_filler, code="SN-001",
                     name="课后服务补助")  # fmt: skip
    target = services.target_start(actor=world.shinan_edu_filler, fund=fund)
    return services.target_save(actor=world.shinan_edu_filler, target=target, long_term_goal="", annual_goal="x",
                                rows=GOOD_ROWS)  # fmt: skip


def test_each_region_follows_its_own_calendar(world, year, draft, district_draft):
    sweep_at(FILING, 0)  # the city's filing date: not the district's
    assert reminded(district_draft) == set()
    calendar(world.shinan_finance_org, year, filing=FILING + timedelta(days=5))
    sweep_at(FILING + timedelta(days=5), 3)
    assert reminded(district_draft, stage=3) == {"shinan_edu_filler", "shinan_finance"}
    assert reminded(draft) & {"shinan_edu_filler", "shinan_finance"} == set()


def test_the_region_argument_limits_the_source_to_that_region(world, year, draft, district_draft):
    calendar(world.shinan_finance_org, year)
    today = FILING
    assert {w.object_id for w in open_targets(today, 7, None)} == {draft.pk, district_draft.pk}
    assert {w.object_id for w in open_targets(today, 7, world.city.pk)} == {draft.pk}
    assert {w.object_id for w in open_targets(today, 7, world.shinan.pk)} == {district_draft.pk}
    assert list(open_targets(today - timedelta(days=8), 7, None)) == []  # beyond the horizon


# --- who and how many queries ------------------------------------------------------------------------------------


def test_recipients_agree_with_users_who_can_for_each_kind_of_work(world, year, city_calendar):
    drafted = filed_target(world, make_fund(world, year, code="K-1"))
    at_department = services.target_send(actor=world.edu_unit_filler, target=filed_target(world, make_fund(
        world, year, code="K-2")))  # fmt: skip
    at_sector = filed_target(world, make_fund(world, year, code="K-3"))
    services.target_send(actor=world.edu_unit_filler, target=at_sector)
    services.target_submit(actor=world.edu_approver, target=at_sector)
    at_perf = filed_target(world, make_fund(world, year, code="K-4"))
    services.target_submit(actor=world.edu_approver, target=at_perf)
    services.target_pass(actor=world.sector_kjw, target=at_perf)
    returned = filed_target(world, make_fund(world, year, code="K-5"))
    services.target_send(actor=world.edu_unit_filler, target=returned)
    services.target_return(actor=world.edu_approver, target=returned, comment="改", resubmit_by=FILING)
    department = services.department_target_start(actor=world.edu_filler, department=world.edu, fiscal_year=year)
    works = list(open_targets(FINANCE_REVIEW, 7, None))
    expected = {
        drafted.pk: ("target.edit", Party.UNIT),
        at_department.pk: ("target.submit", Party.DEPARTMENT),
        at_sector.pk: ("target.sector_review", Party.FINANCE),
        at_perf.pk: ("target.approve", Party.FINANCE),
        returned.pk: ("target.edit", Party.UNIT),
        department.pk: ("target.edit", Party.UNIT),
    }
    assert {w.object_id: (w.action, w.party) for w in works} == expected
    assert_index_agrees(works, PerformanceTarget)


def test_the_source_runs_two_queries_however_many_targets(world, year, city_calendar):
    calendar(world.shinan_finance_org, year)
    calendar(world.city_finance, FiscalYear.objects.create(year=2027))
    counter = iter(range(100))

    def grow():
        for _ in range(3):
            n = next(counter)
            target = filed_target(world, make_fund(world, year, code=f"G-{n}"))
            if n % 3 == 1:
                services.target_send(actor=world.edu_unit_filler, target=target)
                services.target_return(actor=world.edu_approver, target=target, comment="改", resubmit_by=FILING)
            elif n % 3 == 2:
                services.target_submit(actor=world.edu_approver, target=target)
        fund = make_fund(world, year, org=world.shinan_edu_unit, actor=world.shinan_edu_filler, code=f"SN-G-{n}")
        services.target_start(actor=world.shinan_edu_filler, fund=fund)

    grow()
    assert_constant_queries(lambda: list(open_targets(FINANCE_REVIEW, 7, None)), grow, expected=2)
    assert len(list(open_targets(FINANCE_REVIEW, 7, None))) == 8


# --- 涉密 -------------------------------------------------------------------------------------------------------


def test_a_classified_fund_s_target_is_marked_classified(world, year, city_calendar):
    secret = filed_target(world, make_fund(world, year, code="A009", name="某涉密项目"))
    plain = filed_target(world, make_fund(world, year, code="A010", name="学前教育资助"))
    SpecialFund.objects.filter(pk=secret.fund_id).update(is_classified=True)
    works = {w.object_id: w for w in open_targets(FILING, 0)}
    assert (works[secret.pk].classified, works[plain.pk].classified) == (True, False)
    reminders.sweep(FILING)
    stored = dict(Reminder.objects.filter(recipient=world.edu_unit_filler).values_list("object_id", "classified"))
    assert stored == {secret.pk: True, plain.pk: False}
