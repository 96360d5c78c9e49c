"""区市财政运行综合绩效评价 as reminder work: each district finance office is reminded of its own
submission before and after the evaluation's due date (never another district, not the city, no
escalation), a returned one again with at least a week to correct it, nothing once submitted or
when the evaluation has no due date or is published, and a constant number of queries.

Only this source is walked (the other apps' sources would remind of other test data)."""

from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from apps.core import permissions
from apps.reminders import services
from apps.reminders import sources as registry
from apps.reminders.models import Reminder
from apps.supervision import reminder_sources
from apps.supervision import services_fiscal as fiscal
from apps.supervision import services_fiscal_scoring as scoring
from apps.supervision.models import FiscalEvaluation, FiscalSubmission
from tests.querycount import assert_constant_queries
from tests.test_fiscal_evaluation import FIGURES, add_district, fill

DUE = date(2026, 12, 10)
TITLE = "2026年度区市财政运行综合绩效评价"
S = FiscalSubmission.Status
OUTSIDERS = [
    "perf_admin", "finance_leader", "sector_kjw", "edu_filler", "edu_approver", "edu_unit_filler",
    "health_filler", "shinan_edu_filler", "npc_liaison", "auditor", "expert_li", "sysadmin",
]  # fmt: skip


@pytest.fixture(autouse=True)
def only_this_source(monkeypatch):
    monkeypatch.setattr(registry, "SOURCES", {"fiscal_evaluation": reminder_sources.fiscal_submission_work})


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo("Asia/Shanghai"))


def recipients(**filters) -> set[str]:
    return set(Reminder.objects.filter(**filters).values_list("recipient__username", flat=True))


def sweep(day: date) -> int:
    return services.sweep(day).reminders_created


@pytest.fixture
def shibei(world):
    return add_district(world)  # (市北区财政局, shibei_finance)


@pytest.fixture
def evaluation(world, year, shibei) -> FiscalEvaluation:
    """Opened on 1 January for 市南区 and 市北区, due on ``DUE``."""
    evaluation = fiscal.fiscal_evaluation_create(actor=world.perf_admin, fiscal_year=year, title=TITLE, due_on=DUE)
    return fiscal.fiscal_evaluation_open(actor=world.perf_admin, evaluation=evaluation, today=date(2026, 1, 1))


def sub(evaluation, org) -> FiscalSubmission:
    return FiscalSubmission.objects.get(evaluation=evaluation, organization=org)


def submit(world, evaluation) -> FiscalSubmission:
    """市南区 fills every figure and submits."""
    submission = sub(evaluation, world.shinan_finance_org)
    fill(submission, world.shinan_finance, FIGURES["shinan"])
    return scoring.fiscal_submit(actor=world.shinan_finance, submission=submission)


def test_each_district_is_reminded_of_its_own_submission(world, evaluation, shibei):
    shibei_org, _ = shibei
    assert sweep(DUE - timedelta(days=8)) == 0
    sweep(DUE - timedelta(days=7))
    mine = sub(evaluation, world.shinan_finance_org)
    assert recipients(object_id=mine.pk) == {"shinan_finance"}
    assert recipients(object_id=sub(evaluation, shibei_org).pk) == {"shibei_finance"}
    reminder = Reminder.objects.get(object_id=mine.pk)
    assert (reminder.step, reminder.stage, reminder.due_on, reminder.organization, reminder.region) == (
        "fiscal_evaluation", -7, DUE, world.shinan_finance_org, world.shinan,
    )  # fmt: skip
    assert reminder.title == f"填报财政运行数据：{TITLE}"
    assert reminder.url == f"/supervision/fiscal/submissions/{mine.pk}/"
    assert not recipients(recipient__username__in=OUTSIDERS)


def test_before_on_and_after_the_due_date_without_escalation(world, evaluation, shibei):
    sweep(DUE)
    assert recipients(stage=0) == {"shinan_finance", "shibei_finance"}
    sweep(DUE + timedelta(days=3))
    assert recipients(stage=3) == {"shinan_finance", "shibei_finance"}  # a finance bureau's work: no escalation
    assert set(Reminder.objects.values_list("reason", flat=True)) == {Reminder.Reason.ACTOR}
    assert not recipients(recipient__username__in=OUTSIDERS)
    assert sweep(DUE + timedelta(days=3)) == 0  # exactly once


def test_the_region_filter_keeps_districts_apart(world, evaluation, shibei):
    shibei_org, _ = shibei
    found = list(reminder_sources.fiscal_submission_work(DUE, 7, region_id=world.shinan.pk))
    assert [(w.object_id, w.owner_id) for w in found] == [
        (sub(evaluation, world.shinan_finance_org).pk, world.shinan_finance_org.pk)
    ]
    assert [w.owner_id for w in reminder_sources.fiscal_submission_work(DUE, 7, region_id=shibei_org.region_id)] == [
        shibei_org.pk
    ]
    assert list(reminder_sources.fiscal_submission_work(DUE, 7, region_id=world.city.pk)) == []
    assert list(reminder_sources.fiscal_submission_work(DUE - timedelta(days=8), 7)) == []  # beyond the horizon


def test_a_submitted_one_is_not_reminded(world, evaluation, shibei):
    mine = submit(world, evaluation)
    sweep(DUE + timedelta(days=1))
    assert recipients() == {"shibei_finance"}
    assert not Reminder.objects.filter(object_id=mine.pk).exists()
    scored = scoring.fiscal_score(
        actor=world.perf_admin, submission=mine, scores={i.pk: (i.max_points, "") for i in evaluation.indicators.all()}
    )
    assert scored.status == S.SCORED
    assert [w.owner_id for w in reminder_sources.fiscal_submission_work(DUE + timedelta(days=3), 7)] == [shibei[0].pk]


def test_returned_early_is_due_on_the_evaluation_s_date(world, evaluation, shibei):
    mine = submit(world, evaluation)
    with time_machine.travel(at(DUE - timedelta(days=20)), tick=False):
        scoring.fiscal_return(actor=world.perf_admin, submission=mine, comment="债务率口径有误")
    sweep(DUE - timedelta(days=3))
    reminder = Reminder.objects.get(object_id=mine.pk)
    assert (reminder.due_on, reminder.title, reminder.recipient) == (
        DUE, f"修改并重新报送财政运行数据：{TITLE}", world.shinan_finance,
    )  # fmt: skip


def test_returned_late_gets_a_week_and_a_second_return_is_reminded_again(world, evaluation, shibei):
    mine = submit(world, evaluation)
    returned = DUE + timedelta(days=2)
    with time_machine.travel(at(returned), tick=False):
        scoring.fiscal_return(actor=world.perf_admin, submission=mine, comment="债务率口径有误")
    work = {w.object_id: w for w in reminder_sources.fiscal_submission_work(returned, 7)}
    assert work[mine.pk].due_on == returned + timedelta(days=7)
    assert work[mine.pk].title == f"修改并重新报送财政运行数据：{TITLE}"
    sweep(returned)
    assert recipients(object_id=mine.pk, due_on=returned + timedelta(days=7), stage=-7) == {"shinan_finance"}
    # saving figures does not move the due date (it comes from the return, not from the last change)
    fill(sub(evaluation, world.shinan_finance_org), world.shinan_finance, FIGURES["shibei"])
    sweep(returned + timedelta(days=1))
    assert Reminder.objects.filter(object_id=mine.pk).count() == 1

    scoring.fiscal_submit(actor=world.shinan_finance, submission=mine)
    assert mine.pk not in {w.object_id for w in reminder_sources.fiscal_submission_work(returned, 30)}
    second = returned + timedelta(days=5)
    with time_machine.travel(at(second), tick=False):
        scoring.fiscal_return(actor=world.perf_admin, submission=mine, comment="佐证材料不全")
    sweep(second)
    again = Reminder.objects.filter(object_id=mine.pk, due_on=second + timedelta(days=7))
    assert list(again.values_list("recipient__username", "stage")) == [("shinan_finance", -7)]


def test_no_due_date_or_published_is_no_work(world, evaluation, shibei):
    FiscalEvaluation.objects.filter(pk=evaluation.pk).update(due_on=None)
    assert list(reminder_sources.fiscal_submission_work(DUE, 7)) == []
    FiscalEvaluation.objects.filter(pk=evaluation.pk).update(due_on=DUE, status=FiscalEvaluation.Status.PUBLISHED)
    assert list(reminder_sources.fiscal_submission_work(DUE, 7)) == []
    assert sweep(DUE + timedelta(days=3)) == 0


def test_a_draft_evaluation_has_no_submissions_to_remind(world, year, shibei):
    fiscal.fiscal_evaluation_create(actor=world.perf_admin, fiscal_year=year, title=TITLE, due_on=DUE)
    assert list(reminder_sources.fiscal_submission_work(DUE, 7)) == []


def test_recipients_are_users_who_can(world, evaluation, shibei):
    index = permissions.RecipientIndex()
    found = list(reminder_sources.fiscal_submission_work(DUE, 7))
    assert len(found) == 2
    for work in found:
        submission = FiscalSubmission.objects.get(pk=work.object_id)
        expected = set(permissions.users_who_can(work.action, submission).values_list("pk", flat=True))
        assert expected and set(index.who_can(work.action, work.owner_id, work.model, work.object_id)) == expected


def test_the_command_sweeps_the_fiscal_submissions(world, evaluation, shibei):
    out = StringIO()
    call_command("sweep_reminders", "--date", (DUE - timedelta(days=1)).isoformat(), stdout=out)
    assert "fiscal_evaluation" in out.getvalue() or "财政运行评价" in out.getvalue()
    assert recipients(stage=-1) == {"shinan_finance", "shibei_finance"}


def test_queries_stay_constant_as_districts_grow(world, evaluation, shibei):
    returned = submit(world, evaluation)
    scoring.fiscal_return(actor=world.perf_admin, submission=returned, comment="数据有误")
    codes = iter([("370211", "黄岛区"), ("370212", "崂山区"), ("370213", "李沧区")])

    def grow():
        for n, (code, name) in enumerate(codes):
            org, _user = add_district(world, code=code, name=name, username=f"district_{code}")
            status = S.RETURNED if n % 2 else S.DRAFT
            FiscalSubmission.objects.create(evaluation=evaluation, organization=org, status=status)

    run = lambda: list(reminder_sources.fiscal_submission_work(DUE, 7))  # noqa: E731
    # the submissions with their evaluation, then the dates of the returns
    assert_constant_queries(run, grow, expected=2)
    assert len(run()) == 5
