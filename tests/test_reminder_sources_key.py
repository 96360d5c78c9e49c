"""Key evaluations as reminder work: who is reminded (finance or the department, the assigned agency
staff and experts), when (the region's calendar of the plan's year), escalation only for the
department's evaluations, nothing once submitted/completed, and a constant number of queries.

Only this source is walked (the other apps' sources would remind of the same test data)."""

from datetime import date, timedelta

import pytest

import apps.evaluations.reminder_sources_key  # noqa: F401  (registers the source)
from apps.accounts.roles import Role
from apps.agencies import services as agency_services
from apps.agencies.models import Agency, Expert
from apps.core import permissions
from apps.evaluations import key_services, plans
from apps.evaluations.models import KeyEvaluation
from apps.evaluations.reminder_sources_key import key_evaluation_work
from apps.funds.models import SpecialFund
from apps.orgs.models import FiscalYear, WorkCalendar, WorkStep
from apps.reminders import services
from apps.reminders import sources as registry
from apps.reminders.models import Reminder
from tests.factories import OrganizationFactory, UserFactory
from tests.querycount import assert_constant_queries
from tests.test_key_evaluations import make_fund, score, upload_report

FINANCE_DUE = date(2026, 9, 30)  # 财政重点评价 of 2025's funds
DEPT_DUE = date(2026, 8, 31)  # 部门评价 of 2025's funds
R = Reminder.Reason
KS = KeyEvaluation.Status


@pytest.fixture(autouse=True)
def only_this_source(monkeypatch):
    monkeypatch.setattr(registry, "SOURCES", {"key_evaluations": key_evaluation_work})


@pytest.fixture
def years(db):
    """2025 has ended but is not closed: its funds are evaluated in 2026 (the demo's calendar)."""
    FiscalYear.objects.get_or_create(year=2025, defaults={"is_closed": False})
    return FiscalYear.objects.get_or_create(year=2026, defaults={"is_current": True})[0]


def calendar(bureau, step, due_on, year=2025):
    return WorkCalendar.objects.create(organization=bureau, fiscal_year_id=year, step=step, due_on=due_on)


@pytest.fixture
def city_calendar(world, years):
    calendar(world.city_finance, WorkStep.FINANCE_EVALUATION, FINANCE_DUE)
    calendar(world.city_finance, WorkStep.DEPT_EVALUATION, DEPT_DUE)


def plan_with(world, funds, *, kind="finance", issue=True):
    """A 2025 plan of city finance (or 教育局's own) with ``funds``, issued."""
    actor, org = (world.perf_admin, world.city_finance) if kind == "finance" else (world.edu_approver, world.edu)
    plan = plans.plan_create(actor=actor, organization=org, fiscal_year=FiscalYear.objects.get(pk=2025))
    plans.plan_add_funds(actor=actor, plan=plan, funds=funds)
    if issue:
        plans.plan_issue(actor=actor, plan=plan)
    return plan


@pytest.fixture
def experts(world):
    """李专家 (expert_li, assigned below), 王专家 (another expert, never assigned) and an agency's staff."""
    wang = UserFactory(username="expert_wang", organization=world.expert_pool, roles=[Role.EXPERT])
    agency_org = OrganizationFactory(
        code="T-AG1", name="青岛正衡绩效评价咨询有限公司", kind="agency", region=world.city
    )
    staff = UserFactory(username="agency_zhang", organization=agency_org, roles=[Role.EXPERT])
    agency = Agency.objects.create(
        registered_by=world.city_finance,
        organization=agency_org,
        name=agency_org.name,
        credit_code="91370200MA3C000001",
    )
    li = Expert.objects.create(registered_by=world.city_finance, user=world.expert_li, name="李专家", fields="教育")
    Expert.objects.create(registered_by=world.city_finance, user=wang, name="王专家", fields="教育")
    return agency, li, staff


def recipients(**filters) -> set[str]:
    return set(Reminder.objects.filter(**filters).values_list("recipient__username", flat=True))


def sweep(day: date) -> int:
    return services.sweep(day).reminders_created


NOBODY_ELSE = ["health_filler", "shinan_finance", "shinan_edu_filler", "npc_liaison", "auditor", "expert_wang"]


def test_finance_evaluation_reminds_finance_and_whom_it_assigned(world, city_calendar, experts):
    agency, li, staff = experts
    plan = plan_with(world, [make_fund(world, 2025, "EDU-2025-01"), make_fund(world, 2025, "EDU-2025-02")])
    assigned, other = plan.evaluations.order_by("fund__code")
    agency_services.key_evaluation_assign(actor=world.perf_admin, evaluation=assigned, agency=agency, experts=[li])

    assert sweep(FINANCE_DUE - timedelta(days=8)) == 0  # too early
    sweep(FINANCE_DUE - timedelta(days=7))
    assert recipients(object_id=assigned.pk) == {"perf_admin", "expert_li", "agency_zhang"}
    assert recipients(object_id=other.pk) == {"perf_admin"}  # the expert is not assigned to it
    reminder = Reminder.objects.get(object_id=assigned.pk, recipient=world.expert_li)
    assert (reminder.step, reminder.stage, reminder.due_on) == ("finance_evaluation", -7, FINANCE_DUE)
    assert reminder.title == "开展财政重点评价：2025年度 EDU-2025-01 项目EDU-2025-01"
    assert reminder.url == f"/evaluations/key/{assigned.pk}/" and reminder.organization == world.edu
    assert reminder.region == world.city

    sweep(FINANCE_DUE)
    assert recipients(stage=0) == {"perf_admin", "expert_li", "agency_zhang"}
    sweep(FINANCE_DUE + timedelta(days=5))  # overdue: finance's own work does not escalate
    assert recipients(stage=3) == {"perf_admin", "expert_li", "agency_zhang"}
    assert set(Reminder.objects.values_list("reason", flat=True)) == {R.ACTOR}
    assert not recipients(recipient__username__in=[*NOBODY_ELSE, "sector_kjw", "edu_approver", "edu_filler"])


def test_submitted_waits_on_finance_and_completed_on_nobody(world, city_calendar, experts):
    agency, li, staff = experts
    evaluation = plan_with(world, [make_fund(world, 2025, "EDU-2025-01")]).evaluations.get()
    agency_services.key_evaluation_assign(actor=world.perf_admin, evaluation=evaluation, experts=[li])
    flow = key_services.evaluation_transition
    flow(actor=world.expert_li, evaluation=evaluation, name="start")
    score(world, evaluation, "88", actor=world.expert_li)
    flow(actor=world.expert_li, evaluation=evaluation, name="submit")
    sweep(FINANCE_DUE)
    assert recipients() == {"perf_admin"}  # 审定 is finance's; the expert has done their part
    assert Reminder.objects.get().title.startswith("审定财政重点评价结果：")

    upload_report(world.perf_admin, evaluation)
    flow(actor=world.perf_admin, evaluation=evaluation, name="complete")
    assert sweep(FINANCE_DUE + timedelta(days=3)) == 0


def test_department_evaluation_escalates_like_the_departments_work(world, city_calendar):
    evaluation = plan_with(world, [make_fund(world, 2025, "EDU-2025-01")], kind="department").evaluations.get()
    sweep(DEPT_DUE - timedelta(days=3))
    assert recipients() == {"edu_filler", "edu_approver"}  # the department conducts it
    sweep(DEPT_DUE + timedelta(days=3))
    assert recipients(stage=3) == {"edu_filler", "edu_approver", "sector_kjw"}
    assert Reminder.objects.get(stage=3, recipient=world.sector_kjw).reason == R.FINANCE
    assert Reminder.objects.filter(step="dept_evaluation", object_id=evaluation.pk).count() == 5
    assert not recipients(recipient__username__in=[*NOBODY_ELSE, "edu_unit_filler", "perf_admin", "expert_li"])

    key_services.evaluation_transition(actor=world.edu_filler, evaluation=evaluation, name="start")
    score(world, evaluation, "85", actor=world.edu_filler)
    key_services.evaluation_transition(actor=world.edu_filler, evaluation=evaluation, name="submit")
    Reminder.objects.all().delete()
    sweep(DEPT_DUE + timedelta(days=4))
    assert recipients() == {"edu_approver", "sector_kjw"}  # 审定 by the approver; still overdue
    assert Reminder.objects.get(recipient=world.edu_approver).title.startswith("审定部门评价结果：")


def test_no_work_without_an_issued_plan_or_a_calendar_date(world, years):
    plan_with(world, [make_fund(world, 2025, "EDU-2025-01")], issue=False)  # draft plan
    calendar(world.city_finance, WorkStep.FINANCE_EVALUATION, FINANCE_DUE)
    assert key_evaluation_work(FINANCE_DUE, 7) == []
    issued = plan_with(world, [make_fund(world, 2025, "EDU-2025-02")], kind="department")
    assert key_evaluation_work(FINANCE_DUE, 7) == []  # no 部门评价 date in the calendar
    calendar(world.city_finance, WorkStep.DEPT_EVALUATION, DEPT_DUE)
    assert [w.object_id for w in key_evaluation_work(DEPT_DUE, 7)] == [issued.evaluations.get().pk]
    # Year N is evaluated in N+1: closing N's books does not silence its evaluations.
    FiscalYear.objects.filter(pk=2025).update(is_closed=True)
    assert [w.object_id for w in key_evaluation_work(DEPT_DUE, 7)] == [issued.evaluations.get().pk]


def test_due_dates_beyond_the_horizon_stay_in_the_database(world, city_calendar):
    plan_with(world, [make_fund(world, 2025, "EDU-2025-01")])
    assert key_evaluation_work(FINANCE_DUE - timedelta(days=8), 7) == []
    assert len(key_evaluation_work(FINANCE_DUE - timedelta(days=7), 7)) == 1


def test_districts_are_reminded_of_their_own_only(world, city_calendar):
    calendar(world.shinan_finance_org, WorkStep.FINANCE_EVALUATION, FINANCE_DUE + timedelta(days=10))
    city = plan_with(world, [make_fund(world, 2025, "EDU-2025-01")]).evaluations.get()
    shinan_plan = plans.plan_create(
        actor=world.shinan_finance, organization=world.shinan_finance_org, fiscal_year=FiscalYear.objects.get(pk=2025)
    )
    fund = make_fund(world, 2025, "SN-2025-01", dept=world.shinan_edu, unit=world.shinan_edu_unit)
    plans.plan_add_funds(actor=world.shinan_finance, plan=shinan_plan, funds=[fund])
    plans.plan_issue(actor=world.shinan_finance, plan=shinan_plan)
    shinan = shinan_plan.evaluations.get()

    sweep(FINANCE_DUE + timedelta(days=10))
    assert recipients(object_id=city.pk) == {"perf_admin"}
    assert recipients(object_id=shinan.pk) == {"shinan_finance"}
    assert Reminder.objects.get(object_id=shinan.pk).due_on == FINANCE_DUE + timedelta(days=10)
    assert [w.object_id for w in key_evaluation_work(FINANCE_DUE, 30, region_id=world.shinan.pk)] == [shinan.pk]


def test_recipients_are_users_who_can(world, city_calendar, experts):
    agency, li, staff = experts
    finance = plan_with(world, [make_fund(world, 2025, "EDU-2025-01"), make_fund(world, 2025, "EDU-2025-02")])
    assigned, submitted = finance.evaluations.order_by("fund__code")
    agency_services.key_evaluation_assign(actor=world.perf_admin, evaluation=assigned, agency=agency, experts=[li])
    key_services.evaluation_transition(actor=world.perf_admin, evaluation=submitted, name="start")
    score(world, submitted, "80")
    key_services.evaluation_transition(actor=world.perf_admin, evaluation=submitted, name="submit")
    plan_with(world, [make_fund(world, 2025, "EDU-2025-03")], kind="department")

    index = permissions.RecipientIndex()
    found = key_evaluation_work(FINANCE_DUE, 7)
    assert len(found) == 3
    for work in found:
        record = KeyEvaluation.objects.get(pk=work.object_id)
        expected = set(permissions.users_who_can(work.action, record).values_list("pk", flat=True))
        assert set(index.who_can(work.action, work.owner_id, work.model, work.object_id)) == expected, work.action
    assert {w.action for w in found} == {
        "evaluation.conduct_finance",
        "evaluation.complete_finance",
        "evaluation.conduct_department",
    }
    assert world.expert_li.pk in index.who_can("evaluation.conduct_finance", world.edu.pk, KeyEvaluation, assigned.pk)


def test_queries_stay_constant_as_evaluations_grow(world, city_calendar):
    plan = plan_with(world, [make_fund(world, 2025, "EDU-2025-01")])
    dept_plan = plan_with(world, [make_fund(world, 2025, "EDU-2025-90")], kind="department")
    counter = iter(range(2, 100))

    def grow():
        for target_plan in (plan, dept_plan):
            for _ in range(3):
                n = next(counter)
                fund = make_fund(world, 2025, f"EDU-2025-{n:02d}")
                KeyEvaluation.objects.create(plan=target_plan, fund=fund, department=world.edu)

    assert_constant_queries(lambda: key_evaluation_work(FINANCE_DUE, 7), grow, expected=1)
    assert len(key_evaluation_work(FINANCE_DUE, 7)) == 8


def test_a_classified_fund_s_evaluation_is_marked_classified(world, city_calendar):
    secret, plain = make_fund(world, 2025, "EDU-2025-SM"), make_fund(world, 2025, "EDU-2025-02")
    SpecialFund.objects.filter(pk=secret.pk).update(is_classified=True)
    evaluations = dict(plan_with(world, [secret, plain]).evaluations.values_list("fund_id", "pk"))
    found = {w.object_id: w.classified for w in key_evaluation_work(FINANCE_DUE, 0)}
    assert found == {evaluations[secret.pk]: True, evaluations[plain.pk]: False}
