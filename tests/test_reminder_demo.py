"""The issue's acceptance on the demo: after ``seed_demo`` the sweep reminds the demo accounts of
their work (in-app and by e-mail), escalates what is overdue, and a second sweep sends nothing.

The demo deadlines (``apps.reminders.demo``) are relative to the day the demo is loaded; the clock
is frozen so the whole demo — the other apps' stories too — is the same on every run."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from apps.reminders import services
from apps.reminders.demo import seed_reminder_demo
from apps.reminders.models import EmailDigest, Notification, Reminder
from apps.results.models import Rectification
from apps.targets.models import PerformanceTarget

TODAY = date(2026, 11, 20)
R = Reminder.Reason


@pytest.fixture
def demo(db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(datetime(2026, 11, 20, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        call_command("seed_demo", stdout=io.StringIO())
        seed_reminder_demo()  # a no-op once seed_demo runs it itself
        yield


def reminders_of(username: str) -> set[tuple[str, int, str]]:
    return {(r.title.split("：")[0], r.stage, r.reason) for r in Reminder.objects.filter(recipient__username=username)}


def test_the_demo_sets_current_deadlines_once(demo):
    edu = PerformanceTarget.objects.get(fund__code="370200-EDU-2026-04")
    shinan = PerformanceTarget.objects.get(fund__code="370202-EDU-2026-04")
    assert (edu.resubmit_by, shinan.resubmit_by) == (date(2026, 11, 23), date(2026, 11, 21))
    finding = Rectification.objects.get(source_reference="青审财报〔2026〕15号")
    assert finding.deadline == date(2026, 11, 17) and finding.organization.name == "青岛第二中学"
    assert finding.created_at.date() < finding.deadline  # raised weeks before its deadline
    assert seed_reminder_demo() == 0
    call_command("seed_demo", stdout=io.StringIO())
    assert Rectification.objects.filter(source_reference="青审财报〔2026〕15号").count() == 1


def test_the_sweep_reminds_the_demo_accounts_and_a_second_sweep_sends_nothing(demo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.sweep(TODAY)
    assert first.reminders_created > 0

    # 青岛第二中学: its returned target is due in 3 days; the audit finding is 3 days overdue.
    unit = {("修改并重新报送绩效目标", -3, R.ACTOR), ("填报整改", 3, R.ACTOR)}
    assert unit <= reminders_of("edu_unit_filler")
    assert unit <= reminders_of("edu_filler")
    # …which escalates to the department's approver and to the finance reviewer of 教育局.
    assert ("填报整改", 3, R.DEPARTMENT) in reminders_of("edu_approver")
    assert ("填报整改", 3, R.FINANCE) in reminders_of("sector_kjw")
    # 市南区: its unit's returned target is due tomorrow; its overdue 整改 escalates to its finance office.
    assert ("修改并重新报送绩效目标", -1, R.ACTOR) in reminders_of("shinan_edu_filler")
    assert ("填报整改", 3, R.FINANCE) in reminders_of("shinan_finance")
    # 卫健委's overdue 整改 (no sector division assigned): its filler, then the performance division.
    assert ("填报整改", 3, R.ACTOR) in reminders_of("health_filler")
    assert ("填报整改", 3, R.FINANCE) in reminders_of("perf_admin")
    # People with no open work hear nothing.
    for username in ("npc_liaison", "auditor", "expert_li", "sysadmin", "security_admin", "audit_admin"):
        assert not reminders_of(username), username

    # One unread notification and one e-mail per person for the day, listing all their items.
    notified = set(
        Notification.objects.filter(day=TODAY, read_at__isnull=True).values_list("recipient__username", flat=True)
    )
    expected = {"edu_unit_filler", "edu_filler", "edu_approver", "sector_kjw", "shinan_edu_filler", "shinan_finance"}
    assert expected <= notified
    note = Notification.objects.get(recipient__username="edu_unit_filler", day=TODAY)
    assert note.items.count() == len(reminders_of("edu_unit_filler"))
    sent = {m.to[0] for m in mail.outbox}
    assert {f"{u}@qdperf.example" for u in expected} <= sent
    assert len(mail.outbox) == len(sent)  # one e-mail a person
    to_unit = next(m for m in mail.outbox if m.to == ["edu_unit_filler@qdperf.example"])
    assert "2026年11月23日" in to_unit.body and "2026年11月17日" in to_unit.body
    assert EmailDigest.objects.filter(day=TODAY, status=EmailDigest.Status.SENT).count() == len(sent)

    counts = (Reminder.objects.count(), Notification.objects.count(), EmailDigest.objects.count(), len(mail.outbox))
    with django_capture_on_commit_callbacks(execute=True):
        second = services.sweep(TODAY)
    assert (second.reminders_created, second.emails_queued) == (0, 0)
    assert counts == (
        Reminder.objects.count(), Notification.objects.count(), EmailDigest.objects.count(), len(mail.outbox)
    )  # fmt: skip
