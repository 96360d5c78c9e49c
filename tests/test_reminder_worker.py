"""The sweep through a REAL Celery worker and Redis, as production runs it: beat's task name
``reminders.sweep`` is sent through the broker, a worker process of our own (not the suite's
eager Celery) runs it against the test database, records the reminders and notifications, and
sends the e-mail digests in its own ``reminders.send_email_digests`` tasks; a second sweep adds
nothing.

Needs Redis (``REDIS_URL``) and PostgreSQL (the worker must see the test database): skipped with
the reason without them locally; CI sets both, and its strict mode fails the run if either is
missing (``tests/conftest.py``). The worker uses Redis database 15 so its queue is its own: a
developer's ``make worker`` on database 0 neither takes these tasks nor gives it theirs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from apps.orgs.models import FiscalYear
from apps.reminders.models import EmailDigest, Notification, Reminder, SweepRun
from tests.conftest import build_world
from tests.test_reminder_sources_results import rectification

ROOT = Path(__file__).resolve().parents[1]
WORKER_REDIS_DB = 15

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (REDIS_URL) for a real Celery worker"),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the worker process needs the PostgreSQL test database"
    ),
]


def redis_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


def test_database_url() -> str:
    """The URL of the test database pytest-django created (``test_<name>``), for the worker."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "") + (":" + quote(s["PASSWORD"]) if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


@pytest.fixture
def worker(tmp_path):
    """A Celery worker process on its own Redis database; yields a client app to send tasks with."""
    from celery import Celery

    broker = redis_db(settings.REDIS_URL, WORKER_REDIS_DB)
    client = Celery(broker=broker, backend=broker)
    client.control.purge()  # nothing left over from an interrupted run
    mailbox = tmp_path / "mail"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "qdperf.settings",
        "DEBUG": "1",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "REDIS_URL": broker,
        "DATABASE_URL": test_database_url(),
        # Every message the worker sends lands in a file here (environ reads "filemail://" + an
        # absolute path as a relative one, so one more slash).
        "EMAIL_URL": f"filemail:///{mailbox}",
    }
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "qdperf", "worker", "-l", "info", "--pool", "solo"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield client, mailbox
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        client.control.purge()
        connection.close()  # the worker's connections are gone; ours reopens for the flush


def run(client, name: str, timeout: float = 120):
    result = client.send_task(name)
    deadline = time.monotonic() + timeout
    while not result.ready() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert result.ready(), f"the worker did not run {name} within {timeout:.0f} s"
    return result.get(timeout=1)


def wait_for(predicate, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def test_a_real_worker_runs_the_sweep_and_sends_the_digests(worker):
    client, mailbox = worker
    world = build_world()
    User = get_user_model()
    for user in User.objects.exclude(username="AnonymousUser"):
        User.objects.filter(pk=user.pk).update(email=f"{user.username}@qdperf.test")
    FiscalYear.objects.get_or_create(year=2026)
    # The worker's clock is the real one: work due in three days, and work overdue by three (which
    # escalates to the department's approver and to the sector reviewer of 教育局).
    today = timezone.localdate()
    rectification(world, deadline=today + timedelta(days=3), problem="专项资金拨付滞后")
    rectification(world, deadline=today - timedelta(days=3), problem="绩效目标未按期调整")

    summary = run(client, "reminders.sweep")
    assert "新提醒 6 条" in summary, summary  # 2 + 4 (the filler of the unit and of 教育局, escalated twice)
    people = {"edu_unit_filler", "edu_filler", "edu_approver", "sector_kjw"}
    assert set(Reminder.objects.values_list("recipient__username", flat=True)) == people
    notified = Notification.objects.filter(day=today, read_at__isnull=True)
    assert set(notified.values_list("recipient__username", flat=True)) == people
    assert Notification.objects.get(recipient=world.edu_unit_filler).items.count() == 2
    # The e-mails went out in the worker's own sending tasks, one per person.
    sent = EmailDigest.objects.filter(day=today, status=EmailDigest.Status.SENT)
    assert wait_for(lambda: sent.count() == len(people)), list(EmailDigest.objects.values_list("status", "last_error"))
    messages = [p.read_text(encoding="utf-8") for p in mailbox.iterdir()]
    recipients = sorted(line.split(": ", 1)[1] for m in messages for line in m.splitlines() if line.startswith("To: "))
    assert recipients == sorted(f"{u}@qdperf.test" for u in people)

    again = run(client, "reminders.sweep")
    assert "新提醒 0 条" in again and "待发邮件 0 封" in again, again
    assert Reminder.objects.count() == 6 and Notification.objects.count() == len(people)
    assert SweepRun.objects.filter(finished_at__isnull=False, error="").count() == 2
