"""Exactly once under concurrency: two sweeps at the same moment against PostgreSQL (two threads,
two database connections, released together by a barrier), and a sweep that failed half-way and is
retried. The unique key in the database — not a lock in memory — keeps every reminder once, and
each person gets one in-app notification and one e-mail per day.

A stand-in source (as in ``test_reminder_sweep``) supplies the work: several owners, districts and
stages (before, on and after the due date, escalated), so that both sweeps insert the same keys."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail as outbox
from django.db import connection
from django.db.models import F

from apps.reminders import services, tasks
from apps.reminders import sources as registry
from apps.reminders.models import EmailDigest, Notification, Reminder, SweepRun
from apps.reminders.sources import Party
from tests.conftest import build_world
from tests.test_reminder_sweep import DUE, unit_work

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent sweeps need PostgreSQL"),
]
KEY = ("content_type_id", "object_id", "step", "recipient_id", "stage", "due_on")


def at_once(count: int, fn) -> list:
    """Run ``fn(i)`` in ``count`` threads released together; each thread has its own connection.
    Returns what each returned, or the exception it raised."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        from django.db import connection as own

        try:
            barrier.wait(timeout=30)
            results[i] = fn(i)
        except Exception as exc:  # noqa: BLE001 — reported by the test, not lost in the thread
            results[i] = exc
        finally:
            own.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.fixture
def cast(monkeypatch):
    """The persona cast with addresses, and a stand-in source of ≈250 items across owners."""
    world = build_world()
    User = get_user_model()
    for user in User.objects.exclude(username="AnonymousUser"):
        User.objects.filter(pk=user.pk).update(email=f"{user.username}@qdperf.test")
    items = []
    n = 0
    for owner in (world.edu_unit, world.edu, world.health_unit, world.sci, world.shinan_edu_unit):
        for days in (-7, -3, -1, 0, 1, 2, 3, 5):  # stages -7 … +3 on DUE: before, due, escalated
            for _ in range(6):
                n += 1
                items.append(unit_work(world, object_id=n, due=DUE - timedelta(days=days), owner=owner))
    for _ in range(10):  # finance's own work (no escalation)
        n += 1
        items.append(unit_work(world, object_id=n, action="target.approve", party=Party.FINANCE, due=DUE))
    monkeypatch.setattr(registry, "SOURCES", {"test": lambda today, horizon, region_id=None: list(items)})
    return world


def assert_once_per_key_and_person(day, expected_keys: set[tuple]) -> None:
    keys = list(Reminder.objects.values_list(*KEY))
    assert len(keys) == len(set(keys)) == len(expected_keys)
    assert set(keys) == expected_keys
    people = set(Reminder.objects.values_list("recipient_id", flat=True))
    assert Counter(Notification.objects.filter(day=day).values_list("recipient_id", flat=True)) == dict.fromkeys(
        people, 1
    )
    assert Counter(EmailDigest.objects.filter(day=day).values_list("recipient_id", flat=True)) == dict.fromkeys(
        people, 1
    )
    # Every reminder is in its person's notification and e-mail of the day.
    assert not Reminder.objects.filter(notification__isnull=True).exists()
    assert not Reminder.objects.filter(email_digest__isnull=True).exists()
    assert not Reminder.objects.exclude(notification__recipient_id=F("recipient_id")).exists()
    assert not Reminder.objects.exclude(email_digest__recipient_id=F("recipient_id")).exists()


def expected(day) -> set[tuple]:
    """The keys the sweep must create on ``day`` (read only: nothing is inserted)."""
    return {(row[1], row[2], row[3], row[0], row[4], row[5]) for row in services.due_reminders(day)}


def test_two_sweeps_at_the_same_moment_create_each_reminder_once(cast):
    keys = expected(DUE)
    assert len(keys) > 300  # enough rows for the two inserts to overlap
    reports = at_once(2, lambda i: services.sweep(DUE))
    errors = [r for r in reports if isinstance(r, Exception)]
    assert not errors, errors
    assert sum(r.reminders_created for r in reports) == len(keys)
    assert_once_per_key_and_person(DUE, keys)
    people = {r[3] for r in keys}
    # The e-mails went out on commit (Celery eager): one per person, however the sweeps interleaved.
    sent = Counter(message.to[0] for message in outbox.outbox)
    assert len(sent) == len(people) and set(sent.values()) == {1}
    assert EmailDigest.objects.filter(status=EmailDigest.Status.SENT).count() == len(people)
    assert SweepRun.objects.filter(finished_at__isnull=False, error="").count() == 2


def test_three_sweeps_racing_on_two_days_running(cast):
    """The next day (new stages for some items, the same for others) raced again by three sweeps:
    only the new keys are added, still one notification and one e-mail per person and day."""
    services.sweep(DUE)
    first = set(Reminder.objects.values_list(*KEY))
    day = DUE + timedelta(days=1)
    new = expected(day) - first
    assert new  # e.g. due yesterday → escalated to the department today
    reports = at_once(3, lambda i: services.sweep(day))
    assert not [r for r in reports if isinstance(r, Exception)], reports
    assert sum(r.reminders_created for r in reports) == len(new)
    assert set(Reminder.objects.values_list(*KEY)) == first | new
    people_today = set(Reminder.objects.filter(notification__day=day).values_list("recipient_id", flat=True))
    assert Counter(Notification.objects.filter(day=day).values_list("recipient_id", flat=True)) == dict.fromkeys(
        people_today, 1
    )
    assert Counter(m.to[0] for m in outbox.outbox).most_common(1)[0][1] <= 2  # one per day at most


def test_a_sweep_that_failed_is_retried_and_completes_the_day_once(cast, monkeypatch):
    """The sweep failed at its last step (e.g. the worker lost its database connection): nothing
    of it stays — reminders, notifications and digests are recorded in one transaction — and the
    retried task, racing the next beat tick, completes the day once."""
    keys = expected(DUE)
    real = services.build_digests

    def broken(today):
        raise RuntimeError("connection lost")

    monkeypatch.setattr(services, "build_digests", broken)
    with pytest.raises(RuntimeError):
        services.sweep(DUE)
    assert not Reminder.objects.exists() and not Notification.objects.exists() and not EmailDigest.objects.exists()
    assert SweepRun.objects.get().error.startswith("RuntimeError")
    assert outbox.outbox == []

    monkeypatch.setattr(services, "build_digests", real)
    with time_machine.travel(datetime(2026, 12, 10, 7, 30, tzinfo=ZoneInfo("Asia/Shanghai"))):  # DUE, 07:30
        retried = at_once(2, lambda i: tasks.sweep.apply(throw=True).result)  # the Celery task, as beat runs it
    assert not [r for r in retried if isinstance(r, Exception)], retried
    assert_once_per_key_and_person(DUE, keys)
    people = {k[3] for k in keys}
    assert sorted(Counter(m.to[0] for m in outbox.outbox).values()) == [1] * len(people)
    # A redelivered task (acks_late: the worker died after the sweep committed) adds nothing.
    again = services.sweep(DUE)
    assert (again.reminders_created, again.notifications, len(outbox.outbox)) == (0, 0, len(people))


def test_reminders_recorded_without_digests_are_digested_once(cast):
    """Reminders a sweep recorded without building the digests (the zero-setup path inserts first
    and digests after; a crash between the two): two sweeps at once put each in one digest."""
    keys = expected(DUE)
    assert services.insert_reminders(services.due_reminders(DUE)) == len(keys)
    assert not Notification.objects.exists()
    reports = at_once(2, lambda i: services.sweep(DUE))
    assert not [r for r in reports if isinstance(r, Exception)], reports
    assert [r.reminders_created for r in reports] == [0, 0]
    assert_once_per_key_and_person(DUE, keys)
    people = {k[3] for k in keys}
    assert sorted(Counter(m.to[0] for m in outbox.outbox).values()) == [1] * len(people)
