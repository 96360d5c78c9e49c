"""The reminder sweep's core: stages, recipients (batch = users_who_can), exactly once, digests.

A test source stands in for the apps' sources so the rules are tested on their own; each app's
source has its own tests."""

from dataclasses import replace
from datetime import date, timedelta

import pytest

from apps.core import permissions
from apps.orgs.models import Organization
from apps.reminders import services
from apps.reminders import sources as registry
from apps.reminders.models import EmailDigest, Notification, Reminder, ReminderRule, SweepRun
from apps.reminders.sources import OpenWork, Party
from apps.reminders.stages import current_stage, stages

DUE = date(2026, 12, 10)


@pytest.fixture
def work(world, monkeypatch):
    """Replace the registered sources by one whose work the test sets: ``work.items``."""
    items: list[OpenWork] = []
    monkeypatch.setattr(registry, "SOURCES", {"test": lambda today, horizon, region_id=None: list(items)})
    return items


def unit_work(world, object_id=1, due=DUE, party=Party.UNIT, action="target.edit", owner=None):
    owner = owner or world.edu_unit
    return OpenWork(
        model=Organization, object_id=object_id, step="target_filing", action=action, owner_id=owner.pk,
        due_on=due, title=f"填报绩效目标：测试{object_id}", url=f"/targets/{object_id}/", party=party,
    )  # fmt: skip


def recipients(**filters) -> set[str]:
    return set(Reminder.objects.filter(**filters).values_list("recipient__username", flat=True))


def test_stages_follow_the_rule():
    rule = ReminderRule.default()
    assert stages(rule) == [-7, -3, -1, 0, 1, 3]
    s = stages(rule)
    assert current_stage(s, 30, DUE, DUE - timedelta(days=8)) is None
    assert current_stage(s, 30, DUE, DUE - timedelta(days=7)) == -7
    assert current_stage(s, 30, DUE, DUE - timedelta(days=5)) == -7  # a missed day still sends -7
    assert current_stage(s, 30, DUE, DUE - timedelta(days=3)) == -3
    assert current_stage(s, 30, DUE, DUE) == 0
    assert current_stage(s, 30, DUE, DUE + timedelta(days=2)) == 1
    assert current_stage(s, 30, DUE, DUE + timedelta(days=30)) == 3
    assert current_stage(s, 30, DUE, DUE + timedelta(days=31)) is None
    custom = ReminderRule(days_before="10, 2", on_due_day=False, escalate_department_after=0, escalate_finance_after=5)
    assert stages(custom) == [-10, -2, 5]


def test_reminders_go_to_who_must_act_then_escalate(world, work):
    work.append(unit_work(world))
    report = services.sweep(DUE - timedelta(days=7))
    assert report.open_items == 1 and report.reminders_created == 2
    assert recipients(stage=-7) == {"edu_unit_filler", "edu_filler"}
    services.sweep(DUE + timedelta(days=1))
    assert recipients(stage=1) == {"edu_unit_filler", "edu_filler", "edu_approver"}
    assert Reminder.objects.get(stage=1, recipient=world.edu_approver).reason == Reminder.Reason.DEPARTMENT
    services.sweep(DUE + timedelta(days=3))
    assert recipients(stage=3) == {"edu_unit_filler", "edu_filler", "edu_approver", "sector_kjw"}
    assert Reminder.objects.get(stage=3, recipient=world.sector_kjw).reason == Reminder.Reason.FINANCE
    # Nobody of another department or district hears of it.
    assert not Reminder.objects.filter(recipient__in=[world.health_filler, world.shinan_finance]).exists()


def test_district_work_escalates_to_the_district_finance_office(world, work):
    work.append(unit_work(world, owner=world.shinan_edu_unit))
    services.sweep(DUE + timedelta(days=3))
    assert recipients() == {"shinan_edu_filler", "shinan_finance"}


def test_finance_work_does_not_escalate(world, work):
    work.append(unit_work(world, action="target.approve", party=Party.FINANCE))
    services.sweep(DUE + timedelta(days=5))
    assert recipients() == {"perf_admin"}


def test_each_reminder_is_sent_once(world, work):
    work.append(unit_work(world))
    day = DUE - timedelta(days=3)
    first = services.sweep(day)
    second = services.sweep(day)
    third = services.sweep(day + timedelta(days=1))  # still stage -3: nothing new
    assert (first.reminders_created, second.reminders_created, third.reminders_created) == (2, 0, 0)
    assert Notification.objects.count() == 2 and EmailDigest.objects.count() == 2
    assert SweepRun.objects.filter(finished_at__isnull=False).count() == 3


def test_a_moved_due_date_is_reminded_again(world, work):
    work.append(unit_work(world))
    services.sweep(DUE - timedelta(days=1))
    work[0] = unit_work(world, due=DUE + timedelta(days=7))  # e.g. returned with a resubmission date
    assert services.sweep(DUE).reminders_created == 2


def test_many_items_make_one_digest_per_person_and_day(world, work):
    work.extend(unit_work(world, object_id=n) for n in range(1, 6))
    services.sweep(DUE)
    notification = Notification.objects.get(recipient=world.edu_unit_filler)
    assert notification.items.count() == 5 and notification.read_at is None
    digest = EmailDigest.objects.get(recipient=world.edu_unit_filler)
    assert digest.items.count() == 5


def test_work_found_after_the_days_email_went_out_waits_for_tomorrow(world, work):
    work.append(unit_work(world, object_id=1))
    services.sweep(DUE)
    EmailDigest.objects.update(status=EmailDigest.Status.SENT)
    Notification.objects.update(read_at="2026-12-10T09:00:00+08:00")
    work.append(unit_work(world, object_id=2))
    services.sweep(DUE)
    late = Reminder.objects.get(object_id=2, recipient=world.edu_unit_filler)
    assert late.email_digest is None  # not a second e-mail today
    assert late.notification.read_at is None  # the bell lights up again
    services.sweep(DUE + timedelta(days=1))
    late.refresh_from_db()
    assert late.email_digest.day == DUE + timedelta(days=1)


def test_people_without_email_or_who_turned_it_off_are_skipped(world, work):
    from apps.reminders.models import ChannelPreference

    world.edu_unit_filler.email = ""
    world.edu_unit_filler.save()
    ChannelPreference.objects.create(user=world.edu_filler, email=False)
    work.append(unit_work(world))
    report = services.sweep(DUE)
    assert report.emails_queued == 0
    assert dict(EmailDigest.objects.values_list("recipient__username", "skip_reason")) == {
        "edu_unit_filler": "未登记邮箱地址",
        "edu_filler": "本人未开启邮件提醒",
    }
    assert Notification.objects.count() == 2  # in-app cannot be turned off


def test_titles_and_links_are_stored_as_written(world, work):
    """The sweep sends its rows to PostgreSQL as array literals: quotes, backslashes, braces,
    commas, NULL and SQL in a title must arrive unchanged."""
    odd = 'A001 "学前教育"\\资助 {一期,二期} NULL \'); DROP TABLE reminders_reminder;-- \\" 末'
    work.append(replace(unit_work(world), title=odd, url='/targets/1/?q="a,b"&x={1}'))
    services.sweep(DUE)
    assert set(Reminder.objects.values_list("title", "url")) == {(odd, '/targets/1/?q="a,b"&x={1}')}


def test_a_title_is_one_line_and_a_long_one_ends_with_an_ellipsis(world, work):
    """A line break in a fund's name must not start a line of its own in the plain-text e-mail
    (a fake 办理链接): the sweep collapses every run of whitespace to one space."""
    work.append(replace(unit_work(world, object_id=1), title="学前教育资助\n   办理链接：https://x.example/\r\n\t末"))
    work.append(replace(unit_work(world, object_id=2), title="长" * 250))
    services.sweep(DUE)
    titles = dict(Reminder.objects.filter(recipient=world.edu_unit_filler).values_list("object_id", "title"))
    assert titles[1] == "学前教育资助 办理链接：https://x.example/ 末"
    assert len(titles[2]) == 200 and titles[2] == "长" * 199 + "…"


def test_a_disabled_region_rule_sends_nothing(world, work):
    ReminderRule.objects.create(organization=world.city_finance, enabled=False)
    work.append(unit_work(world))
    assert services.sweep(DUE).reminders_created == 0


@pytest.mark.parametrize(
    "action",
    [
        "target.edit",
        "target.submit",
        "target.sector_review",
        "target.approve",
        "selfeval.review",
        "evaluation.conduct_finance",
    ],
)
def test_the_batch_index_agrees_with_users_who_can(world, action):
    index = permissions.RecipientIndex()
    for owner in (world.edu_unit, world.edu, world.health_unit, world.shinan_edu_unit, world.sci):
        expected = set(permissions.users_who_can(action, owner).values_list("pk", flat=True))
        assert set(index.who_can(action, owner.pk, Organization, owner.pk)) == expected, (action, owner)


def test_work_of_an_organisation_created_during_the_sweep_waits_for_the_next_one(world, monkeypatch, caplog):
    """The sweep loads the organisations before it asks the sources: a unit created in between
    (and its work) is skipped with a warning, not a KeyError that stops everyone's reminders."""
    from tests.factories import OrganizationFactory, UserFactory

    created = []

    def source(today, horizon, region_id=None):
        if not created:
            unit = OrganizationFactory(code="NEW-U", name="新设单位", kind="unit", parent=world.edu, region=world.city)
            UserFactory(username="new_filler", organization=unit, roles=["dept_filler"])
            created.append(unit)
        return [unit_work(world, object_id=1), unit_work(world, object_id=2, owner=created[0])]

    monkeypatch.setattr(registry, "SOURCES", {"test": source})
    report = services.sweep(DUE)
    assert report.unknown_owner == 1 and report.open_items == 1
    assert recipients(object_id=1) == {"edu_unit_filler", "edu_filler"} and not recipients(object_id=2)
    assert "新设单位" not in caplog.text and "留待下次扫描" in caplog.text
    services.sweep(DUE)  # the next sweep knows the unit
    assert recipients(object_id=2) == {"new_filler", "edu_filler"}


def test_changing_the_rule_does_not_remind_the_same_work_again(world, work):
    """The stage numbers change with the rule's days; a person who already heard of the work at a
    later stage is not told again at an earlier one (walkthrough: the same target twice in a day)."""
    work.append(unit_work(world))
    day = DUE - timedelta(days=2)
    assert services.sweep(day).reminders_created == 2  # stage -3
    ReminderRule.objects.create(organization=world.city_finance, days_before="10,5", escalate_department_after=2,
                                escalate_finance_after=4)  # fmt: skip
    assert services.sweep(day).reminders_created == 0  # stage -5 now, but -3 was already sent
    assert services.sweep(DUE).reminders_created == 2  # the due day is a later stage: sent
