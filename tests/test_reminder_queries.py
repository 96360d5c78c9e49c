"""The sweep's SQL does not grow with the work: the same statements for 50 open items as for 500,
with the stand-in source of ``test_reminder_sweep`` and with every real source over the demo and
then the demo plus scale data (``seed_scale`` in small, ``apps.reminders.scale``).

Exact counts, printed with the SQL when they differ (``tests/querycount``)."""

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from apps.reminders import services
from apps.reminders import sources as registry
from apps.reminders.scale import scale_reminders
from tests.querycount import assert_constant_queries, count_queries
from tests.test_reminder_sweep import DUE, unit_work

# SweepRun insert and update, the region rules, the recipient index (organisations, users, roles,
# assignments), then one transaction (a savepoint here): lock, work_mem, batch table, analyze it,
# notifications, e-mails, analyze those two, reminders, drop, and the leftover pass (savepoint,
# lock, four statements, release); then the pending e-mails, and those of earlier days given up.
# SQLite (the zero-setup ``make run``) inserts with ``bulk_create`` in batches of ≈90 rows, one
# query more per batch: PostgreSQL only.
STAND_IN = 27
pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="constant on PostgreSQL (SQLite batches)")


def sweeping(day, reports: list):
    def run():
        reports.append(services.sweep(day))

    return run


def test_the_sweep_runs_the_same_queries_for_ten_times_the_items(world, monkeypatch):
    items = [unit_work(world, object_id=n, due=DUE + timedelta(days=n % 8 - 4)) for n in range(50)]
    monkeypatch.setattr(registry, "SOURCES", {"test": lambda today, horizon, region_id=None: list(items)})
    owners = [world.edu_unit, world.edu, world.health_unit, world.sci, world.shinan_edu_unit]

    def grow():
        items.extend(
            unit_work(world, object_id=n, owner=owners[n % 5], due=DUE + timedelta(days=n % 9 - 5))
            for n in range(50, 500)
        )

    reports = []
    assert_constant_queries(sweeping(DUE, reports), grow, expected=STAND_IN)
    warm, before, after = reports
    assert warm.reminders_created > 0 and before.reminders_created == 0
    assert after.open_items == 500 and after.reminders_created > 4 * warm.reminders_created


@pytest.fixture
def demo(db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(datetime(2026, 11, 20, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        call_command("seed_demo", stdout=io.StringIO())
        yield


def test_with_every_real_source_the_queries_do_not_grow_with_the_scale_data(demo):
    """Demo first; then two scale regions (targets of 2025–2027 in every state, the monitoring
    round, self-evaluations, rectification items …) are added: the sweep walks several times the
    work with the same statements."""
    day = datetime(2026, 11, 20).date()

    def grow():
        call_command(
            "seed_scale", "--regions", "2", "--departments", "3", "--units", "2", "--indicators", "0",
            "--funds", "120", stdout=io.StringIO(),
        )  # fmt: skip
        scale_reminders()

    reports = []
    run = sweeping(day, reports)
    run()  # the demo's reminders are recorded: later runs walk the same work and add nothing
    # Measured on the demo rather than spelled out (the sources belong to their apps and may gain
    # a query); what this test holds is that the scale data does not add one.
    expected, _ = count_queries(run)
    assert_constant_queries(run, grow, expected=expected)
    demo_report, after = reports[0], reports[-1]
    assert set(after.by_source) >= {"targets", "monitoring", "self_evaluation", "rectification"}
    assert after.walked > 2 * demo_report.walked and after.reminders_created > 100
    assert after.open_items > 2 * demo_report.open_items


def test_scale_reminders_gives_the_scale_data_what_the_sweep_needs_once(db):
    """Without the demo: addresses, one in twenty with e-mail off, and each scale region's calendar —
    given by ``seed_scale`` itself, so running it again adds nothing."""
    from django.contrib.auth import get_user_model

    from apps.orgs.models import WorkCalendar
    from apps.reminders.models import ChannelPreference

    call_command(
        "seed_scale", "--regions", "2", "--departments", "2", "--units", "2", "--indicators", "0", "--funds", "0",
        stdout=io.StringIO(),
    )  # fmt: skip
    scale = get_user_model().objects.filter(username__startswith="sc_")
    assert not scale.filter(email="").exists() and scale.first().email.endswith("@scale.qdperf.example")
    assert ChannelPreference.objects.filter(email=False).count() == scale.count() // 20
    assert WorkCalendar.objects.filter(organization__code__startswith="SC").count() == 48
    assert scale_reminders() == {"addresses": 0, "email_off": 0, "calendar": 0}
