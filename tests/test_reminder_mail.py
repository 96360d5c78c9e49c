"""Sending the daily e-mail digests: content (Chinese dates, grouping, absolute links), one
connection per batch, retry with backoff on a failing backend, failed after 5 attempts, exactly one
send when two workers get the same ids, and recovery of digests a dead worker left ``sending``.

The sweep builds the digests from a stand-in source (as in ``test_reminder_sweep``); the e-mails
go to ``tests.flaky_mail.FlakyBackend`` (locmem that fails on demand)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail as outbox
from django.db import connection

from apps.reminders import mail, services, tasks
from apps.reminders.models import EmailDigest
from tests.flaky_mail import FlakyBackend
from tests.test_reminder_sweep import DUE, unit_work, work  # noqa: F401  (fixture "work")

S = EmailDigest.Status
TZ = ZoneInfo("Asia/Shanghai")
MORNING = datetime(2026, 12, 10, 7, 30, tzinfo=TZ)  # DUE's sweep time


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.flaky_mail.FlakyBackend"
    settings.SITE_URL = "https://jx.qingdao.example"
    FlakyBackend.reset()
    yield FlakyBackend
    FlakyBackend.reset()


@pytest.fixture
def addresses(world):
    """Everyone of the cast gets an address (the factory leaves it empty)."""
    User = get_user_model()
    for user in User.objects.exclude(username="AnonymousUser"):
        User.objects.filter(pk=user.pk).update(email=f"{user.username}@qdperf.test")
    return world


def address(user) -> str:
    return f"{user.username}@qdperf.test"


def digest_of(user) -> EmailDigest:
    return EmailDigest.objects.get(recipient=user)


def swept(work, world, *items, day=DUE) -> list[int]:  # noqa: F811
    work.extend(items)
    return services.sweep(day).email_ids


# --- content ------------------------------------------------------------------------------------


def test_digest_groups_items_with_chinese_dates_and_absolute_links(addresses, work, flaky):  # noqa: F811
    world = addresses
    ids = swept(
        work,
        world,
        unit_work(world, object_id=1, due=DUE + timedelta(days=3)),  # 即将到期
        unit_work(world, object_id=2, due=DUE),  # 今天到期
        unit_work(world, object_id=3, due=DUE - timedelta(days=2)),  # 已逾期 2 天
        unit_work(world, object_id=4, due=DUE + timedelta(days=1)),  # 即将到期
    )
    result = mail.send_batch(ids)
    assert result["sent"] == len(ids) == 3  # unit filler, department filler, and the approver (escalation)
    message = next(m for m in outbox.outbox if m.to == [address(world.edu_unit_filler)])
    assert message.subject == "【预算绩效管理】2026年12月10日催办提醒：您有4项待办，其中1项已逾期"
    body = message.body
    assert body.index("【已逾期】") < body.index("【今天到期】") < body.index("【即将到期】")
    assert "截止日期：2026年12月8日（已逾期2天）" in body
    assert "截止日期：2026年12月10日（今天到期）" in body
    assert body.index("2026年12月11日（还有1天到期）") < body.index("2026年12月13日（还有3天到期）")
    assert "办理链接：https://jx.qingdao.example/targets/3/" in body
    assert "https://jx.qingdao.example/notifications/" in body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert '<a href="https://jx.qingdao.example/targets/2/">填报绩效目标：测试2</a>' in html
    assert "2026年12月8日" in html and 'data-group="overdue"' in html
    # The approver hears only of the overdue item, marked as an escalation.
    approver = next(m for m in outbox.outbox if m.to == [address(world.edu_approver)])
    assert approver.subject == "【预算绩效管理】2026年12月10日催办提醒：您有1项待办，其中1项已逾期"
    assert "提醒原因：升级至部门，请督促经办人员尽快办理" in approver.body
    assert "【即将到期】" not in approver.body


def test_subject_without_overdue_items(addresses, work, flaky):  # noqa: F811
    world = addresses
    mail.send_batch(swept(work, world, unit_work(world, due=DUE + timedelta(days=7))))
    assert {m.subject for m in outbox.outbox} == {"【预算绩效管理】2026年12月10日催办提醒：您有1项待办"}
    assert "还有7天到期" in outbox.outbox[0].body and "【已逾期】" not in outbox.outbox[0].body


def test_batch_goes_over_one_connection_and_marks_sent(addresses, work, flaky):  # noqa: F811
    world = addresses
    ids = swept(work, world, unit_work(world, due=DUE - timedelta(days=3)))  # 4 people: escalated twice
    with time_machine.travel(MORNING, tick=False):
        mail.send_batch(ids)
    assert flaky.connections_opened == 1 and len(outbox.outbox) == len(ids) == 4
    assert set(EmailDigest.objects.values_list("status", "attempts", "sent_at")) == {(S.SENT, 1, MORNING)}


# --- retry --------------------------------------------------------------------------------------


def test_a_failing_address_retries_with_backoff_while_the_others_are_sent(
    addresses,
    work,  # noqa: F811
    flaky,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    world = addresses
    ids = swept(work, world, unit_work(world))
    flaky.fail_addresses = {address(world.edu_filler)}
    scheduled = []
    monkeypatch.setattr(
        tasks.retry_email_digest, "apply_async", lambda args, countdown: scheduled.append((args, countdown))
    )
    with time_machine.travel(MORNING, tick=False), django_capture_on_commit_callbacks(execute=True):
        result = mail.send_batch(ids)
    assert result == {"sent": 1, "retrying": 1, "failed": 0, "skipped": 0, "taken_over": 0, "not_claimed": 0}
    assert [m.to for m in outbox.outbox] == [[address(world.edu_unit_filler)]]
    failing = digest_of(world.edu_filler)
    assert (failing.status, failing.attempts, failing.next_attempt_at) == (
        S.RETRYING,
        1,
        MORNING + timedelta(minutes=1),
    )
    assert "邮件服务器拒收该邮箱地址" in failing.last_error and "SMTPRecipientsRefused" in failing.last_error
    assert scheduled == [((failing.pk,), 60)]

    # Too early (a duplicate or early task): nothing is sent, nothing changes.
    with time_machine.travel(MORNING + timedelta(seconds=30), tick=False):
        assert tasks.retry_email_digest(failing.pk)["not_claimed"] == 1
    # Second attempt fails again: the wait doubles.
    with time_machine.travel(MORNING + timedelta(minutes=1), tick=False):
        tasks.retry_email_digest(failing.pk)
    failing.refresh_from_db()
    assert (failing.attempts, failing.next_attempt_at) == (2, MORNING + timedelta(minutes=3))
    # The mailbox is fixed: the third attempt succeeds.
    flaky.fail_addresses = set()
    with time_machine.travel(MORNING + timedelta(minutes=3), tick=False):
        assert tasks.retry_email_digest(failing.pk)["sent"] == 1
    failing.refresh_from_db()
    assert (failing.status, failing.attempts, failing.last_error, failing.next_attempt_at) == (S.SENT, 3, "", None)
    assert len(outbox.outbox) == 2
    assert mail.send_batch([failing.pk, *ids])["sent"] == 0  # everything has gone: nothing twice


def test_after_five_attempts_the_digest_is_failed(addresses, work, flaky):  # noqa: F811
    world = addresses
    swept(work, world, unit_work(world))
    digest = digest_of(world.edu_filler)
    flaky.fail_addresses = {address(world.edu_filler)}
    now = MORNING
    waits = []
    for _ in range(5):
        with time_machine.travel(now, tick=False):
            tasks.retry_email_digest(digest.pk)
        digest.refresh_from_db()
        if digest.next_attempt_at:
            waits.append(digest.next_attempt_at - now)
            now = digest.next_attempt_at
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert (digest.status, digest.attempts, digest.next_attempt_at) == (S.FAILED, 5, None)
    with time_machine.travel(now + timedelta(hours=1), tick=False):
        assert tasks.retry_email_digest(digest.pk)["not_claimed"] == 1  # failed stays failed
    assert flaky.messages_tried == 5


def test_a_server_that_is_down_fails_every_message_and_each_retries(addresses, work, flaky):  # noqa: F811
    world = addresses
    ids = swept(work, world, unit_work(world))
    flaky.fail_first = 2
    with time_machine.travel(MORNING, tick=False):
        assert mail.send_batch(ids)["retrying"] == 2
    with time_machine.travel(MORNING + timedelta(minutes=1), tick=False):
        assert mail.queue_due_retries() == 2  # eager: sent now
    assert set(EmailDigest.objects.values_list("status", "attempts")) == {(S.SENT, 2)}
    assert len(outbox.outbox) == 2


# --- exactly once -------------------------------------------------------------------------------


def test_two_batches_of_the_same_ids_send_each_message_once(addresses, work, flaky):  # noqa: F811
    world = addresses
    ids = swept(work, world, unit_work(world, due=DUE + timedelta(days=1)))
    first, second = mail.send_batch(ids), mail.send_batch(ids)
    assert (first["sent"], second["sent"], second["not_claimed"]) == (2, 0, 2)
    assert sorted(m.to[0] for m in outbox.outbox) == sorted(
        address(u) for u in (world.edu_filler, world.edu_unit_filler)
    )


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_message_once(flaky, monkeypatch):
    """Two threads (two database connections) claim the same ids at the same moment."""
    from tests.conftest import build_world
    from tests.test_reminder_sweep import unit_work as make

    world = build_world()
    User = get_user_model()
    for user in User.objects.exclude(username="AnonymousUser"):
        User.objects.filter(pk=user.pk).update(email=f"{user.username}@qdperf.test")
    from apps.reminders import sources as registry

    items = [make(world, object_id=n, due=DUE - timedelta(days=3)) for n in (1, 2)]
    monkeypatch.setattr(registry, "SOURCES", {"test": lambda today, horizon, region_id=None: list(items)})
    ids = services.sweep(DUE).email_ids
    assert len(ids) == 4
    # The sweep's own sending tasks ran eagerly on commit: start again from pending.
    EmailDigest.objects.filter(pk__in=ids).update(status=S.PENDING, attempts=0, sent_at=None)
    outbox.outbox.clear()
    flaky.delay = 0.05  # the first sender is still sending when the second one claims
    barrier = threading.Barrier(2)
    results = []

    def worker():
        try:
            barrier.wait()
            results.append(mail.send_batch(ids))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and sum(r["sent"] for r in results) == 4
    assert sum(r["not_claimed"] for r in results) == 4  # what one claimed, the other did not
    people = (world.edu_filler, world.edu_unit_filler, world.edu_approver, world.sector_kjw)
    assert sorted(m.to[0] for m in outbox.outbox) == sorted(address(u) for u in people)
    assert set(EmailDigest.objects.values_list("status", "attempts")) == {(S.SENT, 1)}


# --- recovery by the sweep task -----------------------------------------------------------------


def test_digests_stuck_sending_go_back_to_retrying_and_are_sent_by_the_sweep_task(addresses, work, flaky):  # noqa: F811
    world = addresses
    swept(work, world, unit_work(world))
    stuck, fresh = digest_of(world.edu_unit_filler), digest_of(world.edu_filler)
    EmailDigest.objects.filter(pk=stuck.pk).update(status=S.SENDING, claimed_at=MORNING - timedelta(minutes=31))
    EmailDigest.objects.filter(pk=fresh.pk).update(status=S.SENDING, claimed_at=MORNING - timedelta(minutes=29))
    with time_machine.travel(MORNING, tick=False):
        assert mail.recover_stuck() == 1
    stuck.refresh_from_db()
    assert (stuck.status, stuck.attempts, stuck.next_attempt_at) == (S.RETRYING, 1, MORNING)
    assert stuck.last_error == mail.INTERRUPTED
    assert EmailDigest.objects.get(pk=fresh.pk).status == S.SENDING  # maybe still being sent: left alone

    # The daily task: recover, sweep, then queue the due retries (eager here: sent at once).
    work.clear()
    with time_machine.travel(MORNING + timedelta(days=1), tick=False):
        summary = tasks.sweep()
    # A day later the other one has been "sending" too long as well: both go out.
    assert "中断后重新排队 1 封，到期重试 2 封" in summary
    assert sorted(m.to[0] for m in outbox.outbox) == sorted(
        address(u) for u in (world.edu_filler, world.edu_unit_filler)
    )
    assert set(EmailDigest.objects.values_list("status", flat=True)) == {S.SENT}


def test_a_stuck_digest_on_its_last_attempt_is_failed(addresses, work, flaky):  # noqa: F811
    world = addresses
    swept(work, world, unit_work(world))
    digest = digest_of(world.edu_filler)
    EmailDigest.objects.filter(pk=digest.pk).update(
        status=S.SENDING, attempts=4, claimed_at=MORNING - timedelta(hours=2)
    )
    with time_machine.travel(MORNING, tick=False):
        mail.recover_stuck()
        assert mail.queue_due_retries() == 0
    digest.refresh_from_db()
    assert (digest.status, digest.attempts, digest.next_attempt_at) == (S.FAILED, 5, None)


def test_the_command_runs_what_the_daily_task_runs(addresses, work, flaky):  # noqa: F811
    """``manage.py sweep_reminders`` (make run has no beat) recovers and retries like the task."""
    import io

    from django.core.management import call_command

    world = addresses
    swept(work, world, unit_work(world))
    stuck = digest_of(world.edu_unit_filler)
    EmailDigest.objects.filter(pk=stuck.pk).update(status=S.SENDING, claimed_at=MORNING - timedelta(minutes=31))
    work.clear()
    out = io.StringIO()
    with time_machine.travel(MORNING + timedelta(days=1), tick=False):
        call_command("sweep_reminders", stdout=out)
    assert "中断后重新排队 1 封，到期重试 1 封" in out.getvalue()
    assert [m.to[0] for m in outbox.outbox] == [address(world.edu_unit_filler)]
