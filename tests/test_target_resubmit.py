"""The resubmission date of a returned target (重新报送期限): set by whoever returns it — not before
today; by the department no later than the proposed date, by finance within a year —, audited with
the return, cleared when the target is sent again; shown on the page, in the 待办 and in the API
(where leaving it out gives the proposed date and ``null`` none)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.core.templatetags.qd import cn_date
from apps.core.todo import todos_for
from apps.orgs.models import WorkCalendar, WorkStep
from apps.targets import selectors, services
from apps.targets.models import PerformanceTarget
from apps.targets.models import TargetStatus as S
from tests.test_targets_flow import filed_target, make_fund

TODAY = date(2026, 11, 20)
NEXT_WEEK = date(2026, 11, 27)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


@pytest.fixture
def at_sector(world, year):
    """A 教育局 target waiting for the sector division (科教文处)."""
    target = filed_target(world, make_fund(world, year))
    services.target_send(actor=world.edu_unit_filler, target=target)
    return services.target_submit(actor=world.edu_approver, target=target)


def filing_due(world, year, due_on, finance=None):
    return WorkCalendar.objects.create(
        organization=finance or world.city_finance, fiscal_year=year, step=WorkStep.TARGET_FILING, due_on=due_on
    )


def transitions(target):
    return list(
        AuditEvent.objects.for_object(target)
        .filter(kind=AuditEvent.Kind.TRANSITION)
        .order_by("pk")
        .values_list("changes", flat=True)
    )


# --- the service ------------------------------------------------------------------------------------


def test_return_stores_the_date_in_the_audited_transition_and_sending_again_clears_it(world, at_sector):
    services.target_return(actor=world.sector_kjw, target=at_sector, comment="请细化", resubmit_by=date(2026, 12, 3))
    target = PerformanceTarget.objects.get(pk=at_sector.pk)
    assert (target.status, target.resubmit_by) == (S.RETURNED, date(2026, 12, 3))
    assert transitions(target)[-1]["resubmit_by"] == {"from": None, "to": "2026-12-03"}

    services.target_send(actor=world.edu_unit_filler, target=target)
    target.refresh_from_db()
    assert target.status == S.DEPT_REVIEW and target.resubmit_by is None
    assert transitions(target)[-1]["resubmit_by"] == {"from": "2026-12-03", "to": None}


def test_the_department_submitting_a_returned_target_itself_clears_it_too(world, at_sector):
    services.target_return(actor=world.sector_kjw, target=at_sector, comment="请细化", resubmit_by=NEXT_WEEK)
    target = services.target_submit(actor=world.edu_approver, target=at_sector)
    assert target.status == S.SECTOR_REVIEW and PerformanceTarget.objects.get(pk=target.pk).resubmit_by is None


@pytest.mark.parametrize("returner", ["edu_approver", "sector_kjw", "perf_admin"])
def test_every_reviewer_may_set_it_and_it_is_optional(world, year, returner):
    target = filed_target(world, make_fund(world, year))
    services.target_send(actor=world.edu_unit_filler, target=target)
    if returner != "edu_approver":
        services.target_submit(actor=world.edu_approver, target=target)
    if returner == "perf_admin":
        services.target_pass(actor=world.sector_kjw, target=target)
    services.target_return(actor=getattr(world, returner), target=target, comment="改", resubmit_by=TODAY)
    assert PerformanceTarget.objects.get(pk=target.pk).resubmit_by == TODAY  # today itself is allowed
    services.target_send(actor=world.edu_unit_filler, target=target)
    services.target_submit(actor=world.edu_approver, target=target)
    if returner == "edu_approver":
        return
    if returner == "perf_admin":
        services.target_pass(actor=world.sector_kjw, target=target)
    services.target_return(actor=getattr(world, returner), target=target, comment="再改")
    assert PerformanceTarget.objects.get(pk=target.pk).resubmit_by is None


def test_a_date_in_the_past_is_refused_naming_the_field_and_nothing_changes(world, at_sector):
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.target_return(
            actor=world.sector_kjw, target=at_sector, comment="请细化", resubmit_by=date(2026, 11, 19)
        )
    assert exc.value.message_dict == {"resubmit_by": ["重新报送期限不能早于今天（2026年11月20日）。"]}
    target = PerformanceTarget.objects.get(pk=at_sector.pk)
    assert (target.status, target.resubmit_by, target.return_comment) == (S.SECTOR_REVIEW, None, "")
    assert AuditEvent.objects.count() == events


def test_finance_may_give_up_to_a_year_and_no_more(world, at_sector):
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.target_return(
            actor=world.sector_kjw, target=at_sector, comment="请细化", resubmit_by=date(2027, 11, 21)
        )
    assert exc.value.message_dict == {"resubmit_by": ["重新报送期限不能晚于一年后（2027年11月20日）。"]}
    target = PerformanceTarget.objects.get(pk=at_sector.pk)
    assert (target.status, target.resubmit_by, target.return_comment) == (S.SECTOR_REVIEW, None, "")
    assert AuditEvent.objects.count() == events
    services.target_return(actor=world.sector_kjw, target=at_sector, comment="请细化", resubmit_by=date(2027, 11, 20))
    assert PerformanceTarget.objects.get(pk=at_sector.pk).resubmit_by == date(2027, 11, 20)


def test_a_year_from_29_february_is_28_february():
    assert selectors.one_year_after(date(2028, 2, 29)) == date(2029, 2, 28)


@pytest.fixture
def at_department(world, year):
    """A 教育局 target its unit has sent to the department approver."""
    target = filed_target(world, make_fund(world, year))
    return services.target_send(actor=world.edu_unit_filler, target=target)


@pytest.mark.parametrize(
    ("filing", "latest"),
    [(date(2026, 12, 1), date(2026, 12, 1)), (date(2026, 11, 22), NEXT_WEEK), (None, NEXT_WEEK)],
)
def test_the_department_may_not_go_past_the_proposed_date(world, year, at_department, filing, latest):
    """A later date would put off the escalation of its own unit's lateness to finance."""
    if filing:
        filing_due(world, year, filing)
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.target_return(
            actor=world.edu_approver, target=at_department, comment="再改改", resubmit_by=latest + timedelta(days=1)
        )
    message = exc.value.message_dict["resubmit_by"][0]
    assert message.startswith(f"部门退回时，重新报送期限最晚为{cn_date(latest)}（") and "重新报送期限" in message
    target = PerformanceTarget.objects.get(pk=at_department.pk)
    assert (target.status, target.resubmit_by, target.return_comment) == (S.DEPT_REVIEW, None, "")
    assert AuditEvent.objects.count() == events
    services.target_return(actor=world.edu_approver, target=at_department, comment="再改改", resubmit_by=latest)
    assert PerformanceTarget.objects.get(pk=at_department.pk).resubmit_by == latest


@pytest.mark.parametrize("resubmit_by", [None, date(2026, 12, 1), date(2027, 6, 30)])
def test_a_department_return_cannot_silence_the_escalation_to_finance(world, year, monkeypatch, resubmit_by):
    """The reviewers' case: the department returns to its unit with a date long after the region's
    filing date; five days after that date finance must still hear of the lateness."""
    from apps.reminders import services as sweep_services
    from apps.reminders import sources as registry
    from apps.reminders.models import Reminder
    from apps.targets import reminder_sources

    monkeypatch.setattr(registry, "SOURCES", {"targets": reminder_sources.open_targets})
    filing = date(2026, 12, 1)
    filing_due(world, year, filing)
    target = filed_target(world, make_fund(world, year))
    services.target_send(actor=world.edu_unit_filler, target=target)
    try:
        services.target_return(actor=world.edu_approver, target=target, comment="再改改", resubmit_by=resubmit_by)
    except ValidationError:
        assert resubmit_by > filing
        services.target_return(actor=world.edu_approver, target=target, comment="再改改")
    sweep_services.sweep(filing + timedelta(days=5))
    assert ("sector_kjw", Reminder.Reason.FINANCE) in set(Reminder.objects.values_list("recipient__username", "reason"))


@pytest.mark.parametrize(
    ("filing", "expected"),
    [
        (date(2026, 12, 15), date(2026, 12, 15)),  # the calendar's filing date is later: keep it
        (date(2026, 11, 22), NEXT_WEEK),  # too close (or past): at least a week to fix it
        (None, NEXT_WEEK),  # no calendar yet
        (date(2027, 12, 15), date(2027, 11, 20)),  # more than a year ahead: a year, the latest allowed
    ],
)
def test_the_proposed_date_is_the_later_of_the_filing_date_and_a_week_from_today(world, year, at_sector, filing,
                                                                                  expected):  # fmt: skip
    if filing:
        filing_due(world, year, filing)
        filing_due(world, year, date(2026, 12, 31), finance=world.shinan_finance_org)  # another region's: ignored
    assert selectors.resubmit_default(at_sector) == expected


# --- the page ---------------------------------------------------------------------------------------


def test_page_proposes_the_date_stores_it_and_shows_it(world, year, at_sector, login):
    filing_due(world, year, date(2026, 12, 15))
    reviewer = login(world.sector_kjw)
    page = reviewer.get(reverse("targets:target_detail", args=[at_sector.pk])).content.decode()
    assert 'name="resubmit_by" id="return-resubmit-by" value="2026-12-15" min="2026-11-20" max="2027-11-20"' in page
    response = reviewer.post(
        reverse("targets:target_transition", args=[at_sector.pk, "return"]),
        {"comment": "请细化", "resubmit_by": "2026-12-10"},
        follow=True,
    )
    assert "已退回" in response.content.decode()
    assert PerformanceTarget.objects.get(pk=at_sector.pk).resubmit_by == date(2026, 12, 10)
    unit = login(world.edu_unit_filler)
    for page_name in ("targets:target_detail", "targets:target_edit"):
        unit_page = unit.get(reverse(page_name, args=[at_sector.pk])).content.decode()
        assert "<strong>重新报送期限：</strong>2026年12月10日" in unit_page, page_name


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-11-01", "重新报送期限不能早于今天（2026年11月20日）。"),
        ("2026-13-01", "重新报送期限：请填写有效的日期，如 2026-12-01。"),
    ],
)
def test_page_refuses_a_bad_date_naming_the_field_and_changes_nothing(world, at_sector, login, value, message):
    response = login(world.sector_kjw).post(
        reverse("targets:target_transition", args=[at_sector.pk, "return"]),
        {"comment": "请细化", "resubmit_by": value},
        follow=True,
    )
    assert f"操作未成功：{message}" in response.content.decode()
    target = PerformanceTarget.objects.get(pk=at_sector.pk)
    assert (target.status, target.resubmit_by) == (S.SECTOR_REVIEW, None)


@pytest.mark.parametrize(("persona", "status"), [("shinan_finance", 404), ("health_filler", 404), ("edu_filler", 403)])
def test_outsiders_and_the_wrong_role_cannot_return_with_a_date(world, at_sector, login, persona, status):
    response = login(getattr(world, persona)).post(
        reverse("targets:target_transition", args=[at_sector.pk, "return"]),
        {"comment": "请细化", "resubmit_by": "2026-12-10"},
    )
    assert response.status_code == status
    target = PerformanceTarget.objects.get(pk=at_sector.pk)
    assert (target.status, target.resubmit_by) == (S.SECTOR_REVIEW, None)


def test_page_offers_the_department_no_later_date_and_refuses_one(world, year, at_department, login):
    filing_due(world, year, date(2026, 12, 1))
    approver = login(world.edu_approver)
    page = approver.get(reverse("targets:target_detail", args=[at_department.pk])).content.decode()
    assert 'value="2026-12-01" min="2026-11-20" max="2026-12-01"' in page and "最晚 2026年12月1日" in page
    response = approver.post(
        reverse("targets:target_transition", args=[at_department.pk, "return"]),
        {"comment": "再改改", "resubmit_by": "2027-06-30"},
        follow=True,
    )
    assert "操作未成功：部门退回时，重新报送期限最晚为2026年12月1日" in response.content.decode()
    target = PerformanceTarget.objects.get(pk=at_department.pk)
    assert (target.status, target.resubmit_by) == (S.DEPT_REVIEW, None)


def test_no_date_field_for_those_who_may_not_return(world, at_sector, login):
    page = login(world.edu_unit_filler).get(reverse("targets:target_detail", args=[at_sector.pk])).content.decode()
    assert 'name="resubmit_by"' not in page


# --- the 待办 -----------------------------------------------------------------------------------------


def test_todo_uses_the_resubmission_date_of_a_returned_target(world, year, at_sector):
    filing_due(world, year, date(2026, 11, 30))
    other = filed_target(world, make_fund(world, year, code="EDU-2026-002", name="课后服务"))  # a draft
    services.target_return(actor=world.sector_kjw, target=at_sector, comment="请细化", resubmit_by=date(2026, 12, 8))
    due = {
        item.title: item.due_on for item in todos_for(world.edu_unit_filler, 2026) if item.category == "绩效目标填报"
    }
    assert due == {
        f"填报/修改：{at_sector.fund.code} {at_sector.fund.name}": date(2026, 12, 8),
        f"填报/修改：{other.fund.code} {other.fund.name}": date(2026, 11, 30),
    }


# --- the API --------------------------------------------------------------------------------------------


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def test_api_accepts_the_date_on_return_and_shows_it_read_only(world, at_sector, login):
    url = f"/api/v1/targets/{at_sector.pk}/"
    reviewer = login(world.sector_kjw)
    returned = post(reviewer, url + "return/", {"comment": "请细化", "resubmit_by": "2026-12-10"})
    assert returned.status_code == 200 and returned.json()["resubmit_by"] == "2026-12-10"
    unit = login(world.edu_unit_filler)
    assert unit.get(url).json()["resubmit_by"] == "2026-12-10"
    # Read-only: saving the target does not touch it.
    unit.put(url, {"annual_goal": "应助尽助", "resubmit_by": "2027-01-01", "indicators": []},
             content_type="application/json")  # fmt: skip
    assert PerformanceTarget.objects.get(pk=at_sector.pk).resubmit_by == date(2026, 12, 10)


def test_api_return_without_a_date_gets_the_proposed_one_and_null_gets_none(world, year, login):
    filing_due(world, year, date(2026, 12, 15))
    targets = []
    for code in ("EDU-2026-001", "EDU-2026-002"):
        target = filed_target(world, make_fund(world, year, code=code, name=code))
        services.target_send(actor=world.edu_unit_filler, target=target)
        targets.append(services.target_submit(actor=world.edu_approver, target=target))
    reviewer = login(world.sector_kjw)
    left_out = post(reviewer, f"/api/v1/targets/{targets[0].pk}/return/", {"comment": "请细化"})
    assert left_out.status_code == 200 and left_out.json()["resubmit_by"] == "2026-12-15"
    assert left_out.json()["status"] == S.RETURNED and left_out.json()["indicators"]  # the target, with its rows
    null = post(reviewer, f"/api/v1/targets/{targets[1].pk}/return/", {"comment": "请细化", "resubmit_by": None})
    assert null.status_code == 200 and null.json()["resubmit_by"] is None
    assert PerformanceTarget.objects.get(pk=targets[1].pk).status == S.RETURNED


def test_api_the_department_returns_with_the_proposed_date_and_no_later(world, year, at_department, login):
    filing_due(world, year, date(2026, 12, 1))
    approver = login(world.edu_approver)
    url = f"/api/v1/targets/{at_department.pk}/return/"
    late = post(approver, url, {"comment": "再改改", "resubmit_by": "2026-12-02"})
    assert late.status_code == 400
    assert late.json()["resubmit_by"][0].startswith("部门退回时，重新报送期限最晚为2026年12月1日")
    assert PerformanceTarget.objects.get(pk=at_department.pk).status == S.DEPT_REVIEW
    left_out = post(approver, url, {"comment": "再改改"})
    assert left_out.status_code == 200 and left_out.json()["resubmit_by"] == "2026-12-01"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-11-01", "重新报送期限不能早于今天（2026年11月20日）。"),
        ("12/10/2026", "重新报送期限格式错误，请使用 YYYY-MM-DD，如 2026-12-01。"),
        ("2027-11-21", "重新报送期限不能晚于一年后（2027年11月20日）。"),
    ],
)
def test_api_refuses_a_bad_date_naming_the_field_and_changes_nothing(world, at_sector, login, value, message):
    response = post(login(world.sector_kjw), f"/api/v1/targets/{at_sector.pk}/return/",
                    {"comment": "请细化", "resubmit_by": value})  # fmt: skip
    assert response.status_code == 400 and response.json() == {"resubmit_by": [message]}
    assert PerformanceTarget.objects.get(pk=at_sector.pk).status == S.SECTOR_REVIEW


@pytest.mark.parametrize(("persona", "status"), [("shinan_finance", 404), ("edu_filler", 403)])
def test_api_outsiders_and_the_wrong_role_cannot_return(world, at_sector, login, persona, status):
    response = post(login(getattr(world, persona)), f"/api/v1/targets/{at_sector.pk}/return/",
                    {"comment": "请细化", "resubmit_by": "2026-12-10"})  # fmt: skip
    assert response.status_code == status
    target = PerformanceTarget.objects.get(pk=at_sector.pk)
    assert (target.status, target.resubmit_by) == (S.SECTOR_REVIEW, None)
