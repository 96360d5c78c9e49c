"""Reminders of self-evaluations through the sweep: fill (unit), submit (department), review
(finance), all due on the round's date; nothing once it has moved on or its round is closed."""

from datetime import date, timedelta

import pytest

from apps.evaluations import services
from apps.evaluations.models import SelfEvaluation, SelfEvaluationRound
from apps.evaluations.reminder_sources import open_self_evaluations
from apps.funds.models import SpecialFund
from apps.orgs.models import WorkStep
from apps.reminders.models import Reminder
from apps.reminders.sources import Party
from tests import test_reminder_sources_targets as common
from tests import test_selfeval_flow as flow
from tests.querycount import assert_constant_queries
from tests.test_reminder_sources_monitoring import approved_in_district
from tests.test_reminder_sources_targets import (
    assert_index_agrees,
    assert_reminders_walk_the_stages,
    reminded,
    sweep_at,
)
from tests.test_selfeval_flow import send_ready
from tests.test_targets_flow import approve_all_the_way, filed_target, make_fund

DUE = date(2027, 3, 31)
STEP = WorkStep.SELF_EVALUATION
frozen_clock, year2025, approved2025 = common.frozen_clock, flow.year2025, flow.approved2025


def open_round(world, year2025, finance=None, actor=None, due_on=DUE):
    return services.round_open(
        actor=actor or world.perf_admin, organization=finance or world.city_finance, fiscal_year=year2025, due_on=due_on
    )[0]


@pytest.fixture
def evaluation(world, year2025, approved2025):
    open_round(world, year2025)
    return SelfEvaluation.objects.get()


def move(world, evaluation, *names):
    actors = {"send": world.edu_unit_filler, "submit": world.edu_approver, "dept_return": world.edu_approver,
              "confirm": world.perf_admin, "return": world.perf_admin}  # fmt: skip
    for name in names:
        evaluation = services.evaluation_transition(
            actor=actors[name], evaluation=evaluation, name=name, comment="请补充"
        )
    return evaluation


def test_a_self_evaluation_to_fill_is_reminded_to_the_unit_then_escalates(world, evaluation):
    assert_reminders_walk_the_stages(
        evaluation, DUE, step=STEP, unit={"edu_unit_filler", "edu_filler"}, approver="edu_approver",
        finance="sector_kjw",
    )  # fmt: skip
    reminder = Reminder.objects.filter(object_id=evaluation.pk).first()
    assert reminder.title == f"填报单位自评：{evaluation.fund.code} {evaluation.fund.name}"
    assert reminder.url == f"/evaluations/self/{evaluation.pk}/"
    assert not reminded(evaluation) & common.OUTSIDERS


def test_once_sent_the_unit_hears_nothing_and_each_next_actor_gets_theirs(world, evaluation):
    sweep_at(DUE, -7)
    send_ready(world, evaluation)
    move(world, evaluation, "send")
    sweep_at(DUE, -3)
    assert reminded(evaluation, stage=-3) == {"edu_approver"}
    move(world, evaluation, "submit")
    sweep_at(DUE, 0)
    assert reminded(evaluation, stage=0) == {"perf_admin", "sector_kjw"}  # finance: to review
    sweep_at(DUE, 4)
    assert reminded(evaluation, stage=3) == {"perf_admin", "sector_kjw"}  # finance's own work does not escalate
    move(world, evaluation, "confirm")
    before = Reminder.objects.count()
    sweep_at(DUE, 6)
    assert Reminder.objects.count() == before


@pytest.mark.parametrize("returned_by", [("send", "dept_return"), ("send", "submit", "return")])
def test_a_returned_self_evaluation_goes_back_to_the_unit(world, evaluation, returned_by):
    send_ready(world, evaluation)
    move(world, evaluation, *returned_by)
    sweep_at(DUE, 1)
    assert reminded(evaluation, stage=1) == {"edu_unit_filler", "edu_filler", "edu_approver"}
    reminder = Reminder.objects.get(object_id=evaluation.pk, recipient=world.edu_filler)
    assert reminder.title.startswith("修改并重新报送单位自评")


def test_a_closed_round_is_not_reminded(world, evaluation):
    services.round_close(actor=world.perf_admin, round_=evaluation.round)
    sweep_at(DUE, 0)
    assert reminded(evaluation) == set()


def test_district_self_evaluations_follow_the_district_round(world, year2025, evaluation):
    district = approved_in_district(world, year2025)
    open_round(
        world, year2025, finance=world.shinan_finance_org, actor=world.shinan_finance, due_on=DUE - timedelta(days=20)
    )
    shinan_evaluation = SelfEvaluation.objects.get(fund=district.fund)
    assert {w.object_id for w in open_self_evaluations(DUE, 7, world.city.pk)} == {evaluation.pk}
    assert {w.object_id for w in open_self_evaluations(DUE, 7, world.shinan.pk)} == {shinan_evaluation.pk}
    sweep_at(DUE - timedelta(days=20), 0)
    assert reminded(shinan_evaluation) == {"shinan_edu_filler"}
    assert reminded(evaluation) == set()  # the city's round is due later
    sweep_at(DUE, 3)
    assert not reminded(evaluation) & {"shinan_edu_filler", "shinan_edu_approver", "shinan_finance"}


def test_recipients_agree_with_users_who_can_for_each_kind_of_work(world, year2025, evaluation):
    codes = ("K-1", "K-2", "K-3")
    for code in codes:
        approve_all_the_way(world, filed_target(world, make_fund(world, year2025, code=code)))
    open_round(world, year2025)
    sent, submitted, returned = (SelfEvaluation.objects.get(fund__code=code) for code in codes)
    for e in (sent, submitted, returned):
        send_ready(world, e)
    move(world, sent, "send")
    move(world, submitted, "send", "submit")
    move(world, returned, "send", "submit", "return")
    works = list(open_self_evaluations(DUE, 7, None))
    assert {w.object_id: (w.action, w.party, w.step) for w in works} == {
        evaluation.pk: ("selfeval.fill", Party.UNIT, STEP),
        sent.pk: ("selfeval.submit", Party.DEPARTMENT, STEP),
        submitted.pk: ("selfeval.review", Party.FINANCE, STEP),
        returned.pk: ("selfeval.fill", Party.UNIT, STEP),
    }
    assert_index_agrees(works, SelfEvaluation)


def test_the_source_runs_two_queries_however_many_self_evaluations(world, year2025, evaluation):
    counter = iter(range(100))

    def grow():
        for _ in range(3):
            approve_all_the_way(world, filed_target(world, make_fund(world, year2025, code=f"G-{next(counter)}")))
        open_round(world, year2025)

    assert_constant_queries(lambda: list(open_self_evaluations(DUE, 7, None)), grow, expected=2)
    assert len(list(open_self_evaluations(DUE, 7, None))) == 4
    SelfEvaluationRound.objects.update(due_on=DUE + timedelta(days=8))
    assert list(open_self_evaluations(DUE, 7, None)) == []  # beyond the horizon


def test_a_classified_fund_s_self_evaluation_is_marked_classified(world, evaluation):
    assert [w.classified for w in open_self_evaluations(DUE, 0)] == [False]
    SpecialFund.objects.filter(pk=evaluation.fund_id).update(is_classified=True)
    assert [w.classified for w in open_self_evaluations(DUE, 0)] == [True]
