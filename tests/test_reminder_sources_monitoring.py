"""Reminders of monitoring reports through the sweep: fill (unit), submit (department), receive
(finance), all due on the round's date; nothing once a report has moved on or its round is closed."""

from datetime import date, timedelta

import pytest

from apps.funds.models import SpecialFund
from apps.monitoring import services
from apps.monitoring.models import MonitoringReport, MonitoringRound
from apps.monitoring.reminder_sources import open_monitoring_reports
from apps.orgs.models import WorkStep
from apps.reminders.models import Reminder
from apps.reminders.sources import Party
from apps.targets import services as target_services
from tests import test_reminder_sources_targets as common
from tests.factories import UserFactory
from tests.querycount import assert_constant_queries
from tests.test_monitoring import fill
from tests.test_reminder_sources_targets import (
    assert_index_agrees,
    assert_reminders_walk_the_stages,
    reminded,
    sweep_at,
)
from tests.test_targets_flow import GOOD_ROWS, approve_all_the_way, filed_target, make_fund

DUE = date(2026, 12, 15)
STEP = WorkStep.MONITORING
frozen_clock = common.frozen_clock


def open_round(world, year, finance=None, actor=None, due_on=DUE):
    return services.round_open(
        actor=actor or world.perf_admin,
        organization=finance or world.city_finance,
        fiscal_year=year,
        data_as_of=date(2026, 10, 31),
        due_on=due_on,
    )[0]


def approved_in_district(world, year, code="SN-001"):
    """A 市南区 fund whose target the district approved (its department approver, then its finance office)."""
    approver = UserFactory(username="shinan_edu_approver", organization=world.shinan_edu, roles=["dept_approver"])
    fund = make_fund(
        world, year, org=world.shinan_edu_unit, actor=world.shinan_edu_filler, code=code, name="课后服务补助"
    )
    target = target_services.target_start(actor=world.shinan_edu_filler, fund=fund)
    target_services.target_save(actor=world.shinan_edu_filler, target=target, long_term_goal="", annual_goal="应助尽助",
                                rows=GOOD_ROWS)  # fmt: skip
    target_services.target_submit(actor=approver, target=target)
    target_services.target_pass(actor=world.shinan_finance, target=target)
    return target_services.target_approve(actor=world.shinan_finance, target=target)


@pytest.fixture
def report(world, year, approved):
    open_round(world, year)
    return MonitoringReport.objects.get()


def move(world, report, *names):
    actors = {"send": world.edu_unit_filler, "submit": world.edu_approver, "dept_return": world.edu_approver,
              "receive": world.perf_admin, "return": world.perf_admin}  # fmt: skip
    for name in names:
        report = services.report_transition(actor=actors[name], report=report, name=name, comment="请补充")
    return report


def test_a_report_to_fill_is_reminded_to_the_unit_then_escalates(world, report):
    assert_reminders_walk_the_stages(
        report, DUE, step=STEP, unit={"edu_unit_filler", "edu_filler"}, approver="edu_approver", finance="sector_kjw"
    )
    reminder = Reminder.objects.filter(object_id=report.pk).first()
    assert reminder.title == f"填报监控报告：{report.fund.code} {report.fund.name}"
    assert reminder.url == f"/monitoring/reports/{report.pk}/"
    assert not reminded(report) & common.OUTSIDERS


def test_once_sent_the_unit_hears_nothing_and_each_next_actor_gets_theirs(world, report):
    sweep_at(DUE, -7)
    fill(world, report)
    move(world, report, "send")
    sweep_at(DUE, -3)
    assert reminded(report, stage=-3) == {"edu_approver"}  # the department now; not the unit
    move(world, report, "submit")
    sweep_at(DUE, -1)
    assert reminded(report, stage=-1) == {"perf_admin", "sector_kjw"}  # finance: to receive
    sweep_at(DUE, 5)
    assert reminded(report, stage=3) == {"perf_admin", "sector_kjw"}  # finance's own work does not escalate
    move(world, report, "receive")
    before = Reminder.objects.count()
    sweep_at(DUE, 6)
    assert Reminder.objects.count() == before


def test_a_report_returned_by_finance_goes_back_to_the_unit(world, report):
    fill(world, report)
    move(world, report, "send", "submit", "return")
    sweep_at(DUE, 0)
    assert reminded(report, stage=0) == {"edu_unit_filler", "edu_filler"}
    assert Reminder.objects.get(object_id=report.pk, recipient=world.edu_filler).title.startswith(
        "修改并重新报送监控报告"
    )


def test_a_closed_round_is_not_reminded(world, report):
    MonitoringRound.objects.update(status=MonitoringRound.Status.CLOSED)
    sweep_at(DUE, 0)
    assert reminded(report) == set()


def test_a_fund_approved_after_the_round_opened_is_reminded_once_finance_reopens_it(world, year, report):
    late = approve_all_the_way(world, filed_target(world, make_fund(world, year, code="LATE")))
    assert {w.object_id for w in open_monitoring_reports(DUE, 7, None)} == {report.pk}  # no task yet: nothing to fill
    open_round(world, year)
    late_report = MonitoringReport.objects.get(fund=late.fund)
    sweep_at(DUE, 0)
    assert reminded(late_report) == {"edu_unit_filler", "edu_filler"}


def test_district_reports_follow_the_district_round(world, year, report):
    district = approved_in_district(world, year)
    open_round(
        world, year, finance=world.shinan_finance_org, actor=world.shinan_finance, due_on=DUE + timedelta(days=10)
    )
    shinan_report = MonitoringReport.objects.get(fund=district.fund)
    assert {w.object_id for w in open_monitoring_reports(DUE, 7, world.city.pk)} == {report.pk}
    assert {w.object_id for w in open_monitoring_reports(DUE, 7, world.shinan.pk)} == set()  # due later
    assert {w.object_id for w in open_monitoring_reports(DUE, 10, world.shinan.pk)} == {shinan_report.pk}
    sweep_at(DUE + timedelta(days=10), 3)
    assert reminded(shinan_report, stage=3) == {"shinan_edu_filler", "shinan_edu_approver", "shinan_finance"}
    assert not reminded(report) & {"shinan_edu_filler", "shinan_edu_approver", "shinan_finance"}


def test_one_sweep_reminds_every_source_in_every_region(world, year, report):
    """A city item from one source must not narrow the next sources to the city (a regression)."""
    district = approved_in_district(world, year)
    open_round(world, year, finance=world.shinan_finance_org, actor=world.shinan_finance)
    shinan_report = MonitoringReport.objects.get(fund=district.fund)
    common.calendar(world.city_finance, year, filing=DUE)
    city_draft = filed_target(world, make_fund(world, year, code="A001"))  # the targets source yields it first
    sweep_at(DUE, 0)
    assert reminded(city_draft) and reminded(report)
    assert reminded(shinan_report) == {"shinan_edu_filler"}


def test_recipients_agree_with_users_who_can_for_each_kind_of_work(world, year, report):
    funds = [approve_all_the_way(world, filed_target(world, make_fund(world, year, code=f"K-{n}"))) for n in range(3)]
    open_round(world, year)
    sent, submitted, returned = (MonitoringReport.objects.get(fund=t.fund) for t in funds)
    for r in (sent, submitted, returned):
        fill(world, r)
    move(world, sent, "send")
    move(world, submitted, "send", "submit")
    move(world, returned, "send", "dept_return")
    works = list(open_monitoring_reports(DUE, 7, None))
    assert {w.object_id: (w.action, w.party, w.step) for w in works} == {
        report.pk: ("monitoring.fill", Party.UNIT, STEP),
        sent.pk: ("monitoring.submit", Party.DEPARTMENT, STEP),
        submitted.pk: ("monitoring.receive", Party.FINANCE, STEP),
        returned.pk: ("monitoring.fill", Party.UNIT, STEP),
    }
    assert_index_agrees(works, MonitoringReport)


def test_the_source_runs_two_queries_however_many_reports(world, year, report):
    counter = iter(range(100))

    def grow():
        for _ in range(3):
            approve_all_the_way(world, filed_target(world, make_fund(world, year, code=f"G-{next(counter)}")))
        open_round(world, year)

    assert_constant_queries(lambda: list(open_monitoring_reports(DUE, 7, None)), grow, expected=2)
    assert len(list(open_monitoring_reports(DUE, 7, None))) == 4


def test_a_classified_fund_s_report_is_marked_classified(world, report):
    assert [w.classified for w in open_monitoring_reports(DUE, 0)] == [False]
    SpecialFund.objects.filter(pk=report.fund_id).update(is_classified=True)
    assert [w.classified for w in open_monitoring_reports(DUE, 0)] == [True]
