"""整改 and 信息公开 as reminder work: who is reminded and when, escalation of a rectification, a
reopened item with a new deadline, nothing once submitted/verified/published, districts apart, the
batch recipients equal ``users_who_can``, and a constant number of queries.

Each test walks only the source it is about (the other apps' sources would remind of the same data)."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.attachments.services import attachment_add
from apps.core import permissions
from apps.evaluations.models import EvaluationPlan, KeyEvaluation, SelfEvaluation, SelfEvaluationRound
from apps.funds.models import SpecialFund
from apps.orgs.models import FiscalYear, Organization, WorkCalendar, WorkStep
from apps.reminders import services
from apps.reminders import sources as registry
from apps.reminders.models import Reminder
from apps.results import reminder_sources
from apps.results import services_disclosure as disclosure_services
from apps.results import services_rectification as rectification_services
from apps.results.models import Disclosure, Rectification
from apps.targets.models import PerformanceTarget
from tests.querycount import assert_constant_queries
from tests.test_key_evaluations import make_fund

DUE = date(2026, 12, 10)
R = Reminder.Reason
RS = Rectification.Status
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
NOBODY_ELSE = ["health_filler", "shinan_finance", "shinan_edu_filler", "npc_liaison", "auditor", "expert_li"]


@pytest.fixture
def walk(monkeypatch):
    """``walk("rectification")``: the sweep walks only that source."""

    def _walk(code):
        monkeypatch.setattr(registry, "SOURCES", {code: getattr(reminder_sources, f"{code}_work")})

    return _walk


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo("Asia/Shanghai"))


def recipients(**filters) -> set[str]:
    return set(Reminder.objects.filter(**filters).values_list("recipient__username", flat=True))


def sweep(day: date | None = None) -> int:
    return services.sweep(day).reminders_created


# --- 整改 ------------------------------------------------------------------------------------------


def rectification(world, *, org=None, deadline=DUE, status=RS.PENDING, fund=None, problem="资金拨付滞后"):
    """An item written directly (like fixtures): the reminder rules are what is tested here."""
    org = org or world.edu_unit
    return Rectification.objects.create(
        source=Rectification.Source.AUDIT, organization=org, fiscal_year_id=2026, problem=problem,
        deadline=deadline, status=status, fund=fund, created_by=world.perf_admin,
    )  # fmt: skip


def test_rectification_before_on_and_after_its_deadline(world, year, walk):
    walk("rectification")
    item = rectification(world, fund=make_fund(world, 2026, "EDU-2026-01"))
    with time_machine.travel(at(date(2026, 12, 2)), tick=False):
        assert sweep() == 0  # 8 days before
    with time_machine.travel(at(date(2026, 12, 3)), tick=False):
        sweep()
    assert recipients(stage=-7) == {"edu_unit_filler", "edu_filler"}  # the unit, not yet its approver
    reminder = Reminder.objects.filter(stage=-7).first()
    assert (reminder.step, reminder.due_on, reminder.organization, reminder.region) == (
        "rectification", DUE, world.edu_unit, world.city,
    )  # fmt: skip
    assert reminder.title == "填报整改：EDU-2026-01 项目EDU-2026-01 — 资金拨付滞后"
    assert reminder.url == f"/results/rectifications/{item.pk}/"
    with time_machine.travel(at(DUE), tick=False):
        sweep()
    assert recipients(stage=0) == {"edu_unit_filler", "edu_filler"}


def test_an_overdue_rectification_escalates_to_the_department_then_finance(world, year, walk):
    walk("rectification")
    rectification(world)
    sweep(DUE + timedelta(days=1))
    assert recipients(stage=1) == {"edu_unit_filler", "edu_filler", "edu_approver"}
    assert Reminder.objects.get(stage=1, recipient=world.edu_approver).reason == R.DEPARTMENT
    sweep(DUE + timedelta(days=2))  # still stage 1: nothing new
    assert Reminder.objects.count() == 3
    sweep(DUE + timedelta(days=3))
    assert recipients(stage=3) == {"edu_unit_filler", "edu_filler", "edu_approver", "sector_kjw"}
    assert Reminder.objects.get(stage=3, recipient=world.sector_kjw).reason == R.FINANCE
    assert not recipients(recipient__username__in=[*NOBODY_ELSE, "perf_admin"])


def test_a_district_rectification_stays_in_the_district(world, year, walk):
    walk("rectification")
    rectification(world, org=world.shinan_edu_unit)
    sweep(DUE + timedelta(days=3))
    assert recipients() == {"shinan_edu_filler", "shinan_finance"}
    assert reminder_sources.rectification_work(DUE, 7, region_id=world.city.pk) == []
    assert len(reminder_sources.rectification_work(DUE, 7, region_id=world.shinan.pk)) == 1


def evidence(world, item):
    attachment_add(
        actor=world.edu_unit_filler, obj=item, view_action="rectification.view", edit_action="rectification.fill",
        file=SimpleUploadedFile("整改报告.pdf", PDF, content_type="application/pdf"),
    )  # fmt: skip


def test_submitted_is_not_reminded_reopened_follows_its_new_deadline_verified_is_done(world, year, walk):
    walk("rectification")
    item = rectification_services.rectification_create(
        actor=world.perf_admin, problem="资金拨付滞后", deadline=DUE, organization=world.edu_unit,
        fiscal_year=year, source_reference="青审报〔2026〕12号", today=DUE - timedelta(days=30),
    )  # fmt: skip
    sweep(DUE - timedelta(days=3))
    assert recipients(stage=-3) == {"edu_unit_filler", "edu_filler"}
    rectification_services.rectification_save(
        actor=world.edu_unit_filler, item=item, measures="加快拨付", progress_note="已拨付"
    )
    evidence(world, item)
    rectification_services.rectification_submit(actor=world.edu_unit_filler, item=item)
    assert sweep(DUE + timedelta(days=3)) == 0  # 待核实: finance verifies without a deadline

    new_deadline = DUE + timedelta(days=20)
    rectification_services.rectification_reopen(
        actor=world.perf_admin, item=item, comment="佐证不全", deadline=new_deadline, today=DUE + timedelta(days=4)
    )
    assert sweep(DUE + timedelta(days=5)) == 0  # the new deadline is 15 days away
    sweep(new_deadline - timedelta(days=3))
    again = Reminder.objects.filter(due_on=new_deadline)
    assert set(again.values_list("recipient__username", flat=True)) == {"edu_unit_filler", "edu_filler"}
    assert {r.title for r in again} == {"重新整改：青岛第二中学 — 资金拨付滞后"}

    rectification_services.rectification_submit(actor=world.edu_unit_filler, item=item)
    rectification_services.rectification_accept(actor=world.perf_admin, item=item, today=new_deadline)
    assert Rectification.objects.get(pk=item.pk).status == RS.DONE
    assert sweep(new_deadline + timedelta(days=3)) == 0


def test_rectification_recipients_are_users_who_can(world, year):
    items = [rectification(world), rectification(world, org=world.edu), rectification(world, org=world.shinan_edu_unit)]
    index = permissions.RecipientIndex()
    found = reminder_sources.rectification_work(DUE, 7)
    assert {w.object_id for w in found} == {i.pk for i in items}
    for work in found:
        record = Rectification.objects.get(pk=work.object_id)
        expected = set(permissions.users_who_can(work.action, record).values_list("pk", flat=True))
        assert expected and set(index.who_can(work.action, work.owner_id, work.model, work.object_id)) == expected


def test_rectification_queries_stay_constant(world, year):
    rectification(world)
    rectification(world, status=RS.VERIFYING)
    rectification(world, deadline=DUE + timedelta(days=30))  # beyond the horizon: stays in the database

    def grow():
        for n in range(4):
            rectification(world, org=[world.edu_unit, world.health_unit][n % 2], fund=make_fund(world, 2026, f"F-{n}"))

    assert_constant_queries(lambda: reminder_sources.rectification_work(DUE, 7), grow, expected=1)
    assert len(reminder_sources.rectification_work(DUE, 7)) == 5


# --- 信息公开 --------------------------------------------------------------------------------------


@pytest.fixture
def years(db):
    for y in (2025, 2026):
        FiscalYear.objects.get_or_create(year=y, defaults={"is_current": y == 2026})


def disclosure_date(bureau, due_on=DUE, year=2025):
    return WorkCalendar.objects.create(
        organization=bureau, fiscal_year_id=year, step=WorkStep.DISCLOSURE, due_on=due_on
    )


def confirmed_self_evaluation(world, fund) -> SelfEvaluation:
    round_ = SelfEvaluationRound.objects.get_or_create(
        organization=world.city_finance if fund.region_id == world.city.pk else world.shinan_finance_org,
        fiscal_year_id=fund.fiscal_year_id, defaults={"name": "自评", "due_on": date(2026, 3, 31)},
    )[0]  # fmt: skip
    return SelfEvaluation.objects.create(
        round=round_, fund=fund, target=fund.targets.get(), organization=fund.organization,
        status=SelfEvaluation.Status.CONFIRMED, budget_amount=Decimal("1000000"),
    )  # fmt: skip


def completed_key_evaluation(world, fund) -> KeyEvaluation:
    plan = EvaluationPlan.objects.get_or_create(
        organization=world.city_finance, fiscal_year_id=fund.fiscal_year_id,
        defaults={"kind": "finance", "name": "重点评价", "status": "issued", "created_by": world.perf_admin},
    )[0]  # fmt: skip
    return KeyEvaluation.objects.create(plan=plan, fund=fund, department=fund.department, status="completed")


@pytest.fixture
def waiting(world, years):
    """City 2025: 3 approved targets (one of a 涉密 fund), a confirmed self-evaluation and a completed
    key evaluation; 市南区 2025: one approved target; 2026's approved target is due much later."""
    funds = [make_fund(world, 2025, f"EDU-2025-0{n}") for n in (1, 2, 3)]
    SpecialFund.objects.filter(pk=funds[2].pk).update(is_classified=True)
    confirmed_self_evaluation(world, funds[0])
    completed_key_evaluation(world, funds[1])
    make_fund(world, 2025, "SN-2025-01", dept=world.shinan_edu, unit=world.shinan_edu_unit)
    make_fund(world, 2026, "EDU-2026-01")
    disclosure_date(world.city_finance)
    disclosure_date(world.shinan_finance_org, DUE + timedelta(days=10))
    disclosure_date(world.city_finance, date(2027, 12, 10), year=2026)
    return funds


def test_one_item_per_region_with_the_counts_and_the_queue(world, waiting):
    found = {w.owner_id: w for w in reminder_sources.disclosure_work(DUE, 10)}
    assert set(found) == {world.city_finance.pk, world.shinan_finance_org.pk}
    city = found[world.city_finance.pk]
    assert city.title == "公开绩效信息：2025年度绩效目标 2 项、自评结果 1 项、重点评价报告 1 项待公开"
    assert city.url == "/results/disclosures/pending/?kind=target&year=2025"
    assert (city.model, city.object_id, city.step, city.action, city.due_on) == (
        Organization, world.city_finance.pk, "disclosure", "disclosure.publish", DUE,
    )  # fmt: skip
    assert found[world.shinan_finance_org.pk].title == "公开绩效信息：2025年度绩效目标 1 项待公开"
    assert [w.owner_id for w in reminder_sources.disclosure_work(DUE, 10, region_id=world.shinan.pk)] == [
        world.shinan_finance_org.pk
    ]
    assert [w.owner_id for w in reminder_sources.disclosure_work(DUE, 7)] == [world.city_finance.pk]  # horizon


def test_finance_of_the_region_is_reminded_without_escalation(world, waiting, walk):
    walk("disclosure")
    assert sweep(DUE - timedelta(days=8)) == 0
    sweep(DUE - timedelta(days=7))
    assert recipients() == {"perf_admin"}
    sweep(DUE + timedelta(days=3))
    assert recipients(stage=3) == {"perf_admin"}  # finance's own work: no escalation
    sweep(DUE + timedelta(days=10))
    assert recipients(object_id=world.shinan_finance_org.pk) == {"shinan_finance"}
    outsiders = ["sector_kjw", "edu_approver", "edu_filler", "edu_unit_filler", "health_filler", "npc_liaison"]
    assert not recipients(recipient__username__in=outsiders)
    assert Reminder.objects.filter(recipient=world.perf_admin).count() == 2  # one line per stage, not per record


def test_published_records_leave_the_count_and_all_published_is_no_work(world, waiting, walk):
    walk("disclosure")
    publish = disclosure_services.disclosure_publish
    targets = PerformanceTarget.objects.filter(fund__in=waiting[:2])
    for target in targets:
        publish(actor=world.perf_admin, kind="target", record=target)
    city = reminder_sources.disclosure_work(DUE, 7)[0]
    assert city.title == "公开绩效信息：2025年度自评结果 1 项、重点评价报告 1 项待公开"
    assert city.url == "/results/disclosures/pending/?kind=self_evaluation&year=2025"
    publish(actor=world.perf_admin, kind="self_evaluation", record=SelfEvaluation.objects.get())
    Disclosure.objects.create(
        kind="key_evaluation", key_evaluation=KeyEvaluation.objects.get(), department=world.edu, region=world.city,
        fiscal_year_id=2025, title="报告", published_by=world.perf_admin,
    )  # fmt: skip
    assert reminder_sources.disclosure_work(DUE, 7) == []  # the 涉密 fund's target is never counted
    assert sweep(DUE) == 0
    disclosure_services.disclosure_withdraw(
        actor=world.perf_admin, disclosure=Disclosure.objects.first(), reason="更正"
    )
    assert len(reminder_sources.disclosure_work(DUE, 7)) == 1  # withdrawn: back in the queue


def test_disclosure_recipients_are_users_who_can_for_each_kind(world, waiting):
    index = permissions.RecipientIndex()
    works = {w.owner_id: w for w in reminder_sources.disclosure_work(DUE, 10)}
    records = [
        PerformanceTarget.objects.get(fund=waiting[0]),
        SelfEvaluation.objects.get(),
        KeyEvaluation.objects.get(),
        PerformanceTarget.objects.get(fund__code="SN-2025-01"),
    ]
    for record in records:
        work = works[Organization.objects.get(kind="finance", region=permissions.owner_of(record).region).pk]
        expected = set(permissions.users_who_can("disclosure.publish", record).values_list("pk", flat=True))
        assert expected and set(index.who_can(work.action, work.owner_id, work.model, work.object_id)) == expected


def test_disclosure_queries_stay_constant(world, waiting):
    counter = iter(range(10, 100))

    def grow():
        for _ in range(3):
            fund = make_fund(world, 2025, f"EDU-2025-{next(counter)}")
            confirmed_self_evaluation(world, fund)
            completed_key_evaluation(world, make_fund(world, 2025, f"EDU-2025-{next(counter)}"))
        make_fund(world, 2025, f"SN-2025-{next(counter)}", dept=world.shinan_edu, unit=world.shinan_edu_unit)

    # The calendar, then one grouped count per kind of record.
    assert_constant_queries(lambda: reminder_sources.disclosure_work(DUE, 10), grow, expected=4)
    city = {w.owner_id: w for w in reminder_sources.disclosure_work(DUE, 10)}[world.city_finance.pk]
    assert city.title == "公开绩效信息：2025年度绩效目标 8 项、自评结果 4 项、重点评价报告 4 项待公开"


def test_a_classified_fund_s_rectification_is_marked_classified(world, year):
    secret, plain = make_fund(world, 2026, "EDU-2026-SM"), make_fund(world, 2026, "EDU-2026-02")
    SpecialFund.objects.filter(pk=secret.pk).update(is_classified=True)
    items = {rectification(world, fund=secret).pk: True, rectification(world, fund=plain).pk: False}
    items[rectification(world).pk] = False  # no fund: the unit's own problem
    found = {w.object_id: w.classified for w in reminder_sources.rectification_work(DUE, 0)}
    assert found == items
