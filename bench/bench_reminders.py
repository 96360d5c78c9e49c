#!/usr/bin/env python
"""Reminder sweep benchmark on the scale data (issue 7: ≈100,000 open items, ≈25,000 users;
first sweep ≤ 60 s, second sweep ≤ 10 s and creating nothing, queries independent of the items).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qdperf_scale7 .venv/bin/python bench/bench_reminders.py

Needs the scale data (``seed_demo`` + ``seed_scale``, run here once; ``apps/reminders/scale.py``
gives scale users addresses). Two scenarios, each run inside a transaction that is rolled back at
the end, so the database is unchanged and the bench repeatable:

1. **calendar day** (``--day``, default 2026-12-14): a real day of the demo calendar — the 2027
   targets' finance review is due in six days, their department review is a month overdue, and
   rectification items fall due — with the default rules (7/3/1 days before, on the day, escalate
   after 1 and 3 days, stop after 30). The sources walk every open record (≈92,000); only those
   whose stage falls in the window are reminded.
2. **every item due**: the same day with every region's rule set to never stop reminding overdue
   work (``stop_after = 0``), so every walked record is due and most are escalated: the worst case.

For each: (1) the first sweep, (2) a second sweep right after (must create nothing), then (3) the
e-mail digests the first sweep queued, sent with the locmem backend through ``mail.send_batch`` in
the sweep's chunks. The sweep queues its sending tasks with ``transaction.on_commit``; inside the
bench's transaction they never run (it is rolled back), so no e-mail is sent inside the sweep's
timing — step (3) sends the queued ids separately and is timed on its own. SQL statements are
counted with an execute wrapper (the INSERT's 300,000-element arrays are not kept in memory).
Foreign keys (deferred to commit in Django's schema) are checked per statement (``SET CONSTRAINTS
ALL IMMEDIATE``) so that the rolled-back sweep pays for them as a committed one does.
"""

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qdperf.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")  # never a broker: nothing leaves this process

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core import mail as outbox  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from apps.orgs.models import Organization  # noqa: E402
from apps.reminders import mail, services  # noqa: E402
from apps.reminders.models import EmailDigest, Notification, ReminderRule  # noqa: E402
from apps.reminders.scale import scale_reminders  # noqa: E402

DAY = date(2026, 12, 14)


class Counter:
    """Counts SQL statements without keeping them (``connection.execute_wrapper``)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def timed_sweep(day: date) -> tuple[services.SweepReport, float, int]:
    counter = Counter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        report = services.sweep(day)
        seconds = time.perf_counter() - started
    return report, seconds, counter.count


def send_queued(ids: list[int]) -> tuple[int, float, int]:
    """Send the queued digests as the Celery tasks would (chunks of ``services.EMAIL_CHUNK``)."""
    counter, sent = Counter(), 0
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        outbox.outbox = []
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            for start in range(0, len(ids), services.EMAIL_CHUNK):
                sent += mail.send_batch(ids[start : start + services.EMAIL_CHUNK])["sent"]
                outbox.outbox.clear()  # memory stays flat; the count is what matters
            seconds = time.perf_counter() - started
    return sent, seconds, counter.count


def every_item_due() -> None:
    """Every region's rule: default stages, but never stop reminding overdue work."""
    for bureau in Organization.objects.filter(kind=Organization.Kind.FINANCE):
        ReminderRule.objects.update_or_create(organization=bureau, defaults={"stop_after": 0})


def scenario(name: str, day: date, setup=None) -> dict:
    with transaction.atomic():
        with connection.cursor() as cursor:
            # The foreign keys are checked at commit, which this transaction never reaches: check
            # them in each statement instead, so the sweep's timing includes them.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        if setup:
            setup()
        first, first_s, first_q = timed_sweep(day)
        second, second_s, second_q = timed_sweep(day)
        sent, mail_s, mail_q = send_queued(first.email_ids)
        figures = {
            "name": name,
            "walked": first.walked,
            "due": first.open_items,
            "by_source": first.by_source,
            "created": first.reminders_created,
            "notifications": Notification.objects.filter(day=day).count(),
            "digests": EmailDigest.objects.filter(day=day).count(),
            "queued": first.emails_queued,
            "first": (first_s, first_q),
            "second": (second_s, second_q, second.reminders_created, second.emails_queued),
            "mail": (sent, mail_s, mail_q),
        }
        transaction.set_rollback(True)
    return figures


def show(f: dict) -> None:
    first_s, first_q = f["first"]
    second_s, second_q, again, requeued = f["second"]
    sent, mail_s, mail_q = f["mail"]
    print(f"\n== {f['name']} ==")
    print(f"open items walked by the sources: {f['walked']:,}; due today: {f['due']:,}")
    print("  due by source: " + ", ".join(f"{code} {n:,}" for code, n in f["by_source"].items()))
    print(f"reminders created: {f['created']:,}")
    print(f"digests: {f['notifications']:,} in-app notifications (one per person), {f['digests']:,} e-mail")
    print(f"e-mails queued: {f['queued']:,}")
    print(f"{'':<14}{'seconds':>9}{'queries':>9}{'created':>9}{'queued':>8}")
    print(f"{'first sweep':<14}{first_s:>9.1f}{first_q:>9}{f['created']:>9}{f['queued']:>8}")
    print(f"{'second sweep':<14}{second_s:>9.1f}{second_q:>9}{again:>9}{requeued:>8}")
    rate = sent / mail_s if mail_s else 0
    print(f"e-mail (locmem): {sent:,} sent in {mail_s:.1f} s = {rate:,.0f}/s, {mail_q:,} queries")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--day", type=date.fromisoformat, default=DAY, help="sweep day (default 2026-12-14)")
    parser.add_argument("--skip-seed", action="store_true", help="the scale data is there: skip the seed commands")
    parser.add_argument("--only", choices=["calendar", "all-due"], help="run one scenario")
    args = parser.parse_args()
    if not args.skip_seed:
        call_command("migrate", verbosity=0)
        call_command("seed_demo", verbosity=0)
        call_command("seed_scale", verbosity=0)
    scale_reminders(stdout=sys.stdout)
    with connection.cursor() as cursor:
        # Each run's rolled-back rows stay behind as dead tuples until autovacuum comes by; clear
        # them so that runs are comparable (outside any timing).
        cursor.execute("VACUUM ANALYZE reminders_reminder, reminders_notification, reminders_emaildigest")
    print()
    User = get_user_model()
    users = User.objects.filter(is_active=True).exclude(username="AnonymousUser").count()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"database: {connection.vendor}; sweep day {args.day}; active users {users:,}; load average {load}")
    if args.only in (None, "calendar"):
        show(scenario(f"calendar day {args.day}, default rules", args.day))
    if args.only in (None, "all-due"):
        show(scenario(f"every open item due ({args.day}, rules never stop)", args.day, every_item_due))


if __name__ == "__main__":
    main()
