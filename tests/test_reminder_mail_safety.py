"""E-mail digests that must not go wrong: a sweep racing the sender, a slow sender racing the
recovery of stuck digests, people who can no longer receive e-mail, 涉密 titles, a line break in a
title, a digest with thousands of items, and e-mails whose sending task was lost.

The sweep builds the digests from a stand-in source (as in ``test_reminder_sweep``); the e-mails
go to ``tests.flaky_mail.FlakyBackend`` (locmem)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.exceptions import SoftTimeLimitExceeded
from django.contrib.auth import get_user_model
from django.core import mail as outbox
from django.db import connection
from django.utils import timezone

from apps.reminders import mail, services, tasks
from apps.reminders import sources as registry
from apps.reminders.models import ChannelPreference, EmailDigest, Notification, Reminder
from tests.test_reminder_mail import address, addresses, digest_of, flaky, swept  # noqa: F401  (fixtures)
from tests.test_reminder_sweep import DUE, unit_work, work  # noqa: F401  (fixture "work")

S = EmailDigest.Status
TZ = ZoneInfo("Asia/Shanghai")
User = get_user_model()


def to(user) -> list:
    return [m for m in outbox.outbox if m.to == [address(user)]]


# --- a sweep while the day's e-mails go out ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_claim_waits_for_a_running_sweep_and_sends_what_it_added(flaky, monkeypatch):  # noqa: F811
    """The second sweep of the day has put a new item into the pending digests but not committed
    yet when the worker picks up the first sweep's task: the claim waits for the sweep's lock,
    then sends the digest with both items (claimed earlier, the new item would go nowhere)."""
    from tests.conftest import build_world

    world = build_world()
    for user in User.objects.exclude(username="AnonymousUser"):
        User.objects.filter(pk=user.pk).update(email=address(user))
    items = [unit_work(world, object_id=1)]
    monkeypatch.setattr(registry, "SOURCES", {"test": lambda today, horizon, region_id=None: list(items)})
    monkeypatch.setattr(tasks.send_email_digests, "delay", lambda ids: None)  # queued in the broker, not run yet
    ids = services.sweep(DUE).email_ids
    items.append(unit_work(world, object_id=2))
    inside, release = threading.Event(), threading.Event()
    real_build = services.build_digests

    def paused(today):  # the new reminders are in the pending digests, not committed yet
        inside.set()
        release.wait(30)
        return real_build(today)

    monkeypatch.setattr(services, "build_digests", paused)
    results, errors = [], []

    def in_thread(fn):
        def run():
            try:
                results.append(fn())
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                connection.close()

        return threading.Thread(target=run)

    sweeper = in_thread(lambda: services.sweep(DUE))
    sweeper.start()
    assert inside.wait(30)
    sender = in_thread(lambda: mail.send_batch(ids))
    sender.start()
    sender.join(1.5)
    assert sender.is_alive(), "the claim did not wait for the sweep"
    assert not outbox.outbox
    release.set()
    sweeper.join(30)
    sender.join(30)
    assert not errors and not sender.is_alive()
    sent = next(r for r in results if isinstance(r, dict))
    assert sent["sent"] == len(ids) == 2
    body = to(world.edu_unit_filler)[0].body
    assert "填报绩效目标：测试1" in body and "填报绩效目标：测试2" in body
    late = Reminder.objects.get(object_id=2, recipient=world.edu_unit_filler)
    assert late.email_digest.status == S.SENT


# --- a slow sender and the recovery of stuck digests ---------------------------------------------


def test_a_slow_sender_does_not_send_what_recovery_gave_another_worker(addresses, work, flaky, monkeypatch):  # noqa: F811
    """Worker A sends its batch slowly: after its first message the next sweep task finds the rest
    ``sending`` for 31 minutes, recovers them and worker B sends them. A then finds each no longer
    its own and skips it: every person gets one e-mail."""
    world = addresses
    ids = swept(work, world, unit_work(world, due=DUE - timedelta(days=3)))  # 4 people
    real_sent, fired = mail._sent, []

    def sent_then_half_an_hour_passes(digest, claimed_at):
        real_sent(digest, claimed_at)
        if not fired:
            fired.append(True)
            with time_machine.travel(timezone.now() + timedelta(minutes=31), tick=False):
                assert mail.recover_stuck() == 3
                assert mail.send_batch(ids)["sent"] == 3  # worker B

    monkeypatch.setattr(mail, "_sent", sent_then_half_an_hour_passes)
    result = mail.send_batch(ids)  # worker A
    assert (result["sent"], result["taken_over"]) == (1, 3)
    assert sorted(m.to[0] for m in outbox.outbox) == sorted(
        address(u) for u in (world.edu_filler, world.edu_unit_filler, world.edu_approver, world.sector_kjw)
    )
    assert set(EmailDigest.objects.values_list("status", flat=True)) == {S.SENT}


def test_sending_stops_before_recovery_would_take_its_digests(settings):
    assert tasks.send_email_digests.soft_time_limit < mail.STUCK_AFTER.total_seconds()
    assert tasks.retry_email_digest.soft_time_limit < mail.STUCK_AFTER.total_seconds()
    assert tasks.send_email_digests.time_limit < mail.STUCK_AFTER.total_seconds()
    assert 0 < settings.EMAIL_TIMEOUT < 60  # one message cannot hang the batch


def test_a_batch_out_of_time_puts_what_it_did_not_start_back_in_line(
    addresses,  # noqa: F811
    work,  # noqa: F811
    flaky,  # noqa: F811
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    world = addresses
    ids = swept(work, world, unit_work(world, due=DUE - timedelta(days=3)))  # 4 people
    real_build, built = mail.build_message, []

    def second_runs_out_of_time(digest, items, conn=None):
        built.append(digest.pk)
        if len(built) == 2:
            raise SoftTimeLimitExceeded()
        return real_build(digest, items, conn)

    monkeypatch.setattr(mail, "build_message", second_runs_out_of_time)
    queued = []
    monkeypatch.setattr(tasks.send_email_digests, "delay", lambda chunk: queued.append(chunk))
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(SoftTimeLimitExceeded):
        mail.send_batch(ids)
    first, second, *rest = sorted(ids)
    status = dict(EmailDigest.objects.values_list("pk", "status"))
    assert (status[first], status[second]) == (S.SENT, S.SENDING)  # the one in flight: recovery decides
    assert [status[pk] for pk in rest] == [S.PENDING, S.PENDING]
    assert [sorted(chunk) for chunk in queued] == [rest] and not EmailDigest.objects.filter(
        pk__in=rest, claimed_at__isnull=False
    ).exists()


# --- people who can no longer receive e-mail -----------------------------------------------------


def test_a_digest_of_someone_deactivated_opted_out_or_without_address_is_skipped_when_sent(
    addresses,  # noqa: F811
    work,  # noqa: F811
    flaky,  # noqa: F811
):
    world = addresses
    ids = swept(work, world, unit_work(world, due=DUE - timedelta(days=3)))  # 4 people, digests pending
    User.objects.filter(pk=world.edu_unit_filler.pk).update(is_active=False)  # left the unit
    ChannelPreference.objects.create(user=world.edu_filler, email=False)
    User.objects.filter(pk=world.edu_approver.pk).update(email="")
    result = mail.send_batch(ids)
    assert (result["sent"], result["skipped"]) == (1, 3)
    assert [m.to for m in outbox.outbox] == [[address(world.sector_kjw)]]
    reasons = dict(EmailDigest.objects.values_list("recipient__username", "skip_reason"))
    assert reasons == {
        "edu_unit_filler": "账号已停用",
        "edu_filler": "本人未开启邮件提醒",
        "edu_approver": "未登记邮箱地址",
        "sector_kjw": "",
    }
    assert set(EmailDigest.objects.exclude(recipient=world.sector_kjw).values_list("status", flat=True)) == {S.SKIPPED}


def test_a_retry_goes_to_the_address_as_it_is_now_or_not_at_all(addresses, work, flaky):  # noqa: F811
    world = addresses
    ids = swept(work, world, unit_work(world))
    flaky.fail_addresses = {address(world.edu_filler), address(world.edu_unit_filler)}
    mail.send_batch(ids)
    EmailDigest.objects.update(next_attempt_at=None)  # the retries are due
    User.objects.filter(pk=world.edu_filler.pk).update(email="edu.new@qdperf.test")
    User.objects.filter(pk=world.edu_unit_filler.pk).update(is_active=False)
    flaky.fail_addresses = set()
    result = mail.send_batch(ids)
    assert (result["sent"], result["skipped"]) == (1, 1)
    assert [m.to for m in outbox.outbox] == [["edu.new@qdperf.test"]]
    assert digest_of(world.edu_filler).address == "edu.new@qdperf.test"
    assert digest_of(world.edu_unit_filler).skip_reason == "账号已停用"


# --- what an e-mail says ---------------------------------------------------------------------------


def test_a_classified_item_leaves_without_its_title_and_stays_whole_in_the_system(addresses, work, flaky):  # noqa: F811
    world = addresses
    secret = replace(unit_work(world, object_id=1), title="填报绩效目标：A009 某涉密国防教育专项", classified=True)
    ids = swept(work, world, secret, unit_work(world, object_id=2))
    mail.send_batch(ids)
    message = to(world.edu_unit_filler)[0]
    html = message.alternatives[0][0]
    for text in (message.body, html, message.subject):
        assert "涉密国防" not in text and "A009" not in text
    assert "1. 涉密事项：请登录系统查看\n   截止日期：2026年12月10日（今天到期）" in message.body
    assert "办理链接：https://jx.qingdao.example/targets/1/" in message.body
    assert '<a href="' in html and "涉密事项：请登录系统查看</a>" in html and "填报绩效目标：测试2" in html
    assert Reminder.objects.get(recipient=world.edu_unit_filler, object_id=1).classified is True
    notification = Notification.objects.get(recipient=world.edu_unit_filler)
    assert "某涉密国防教育专项" in [r.title for r in notification.items.all()][0]  # in-app: the full title


def test_a_line_break_in_a_title_cannot_make_a_line_of_its_own(addresses, work, flaky):  # noqa: F811
    world = addresses
    spoof = replace(unit_work(world), title="学前教育资助\n   办理链接：https://qdperf-login.example/\n")
    mail.send_batch(swept(work, world, spoof))
    body = to(world.edu_unit_filler)[0].body
    assert "1. 填报绩效目标：测试1" not in body
    assert "1. 学前教育资助 办理链接：https://qdperf-login.example/\n   截止日期：" in body
    assert "\n   办理链接：https://qdperf-login.example/" not in body
    # A title recorded before the sweep cleaned titles is put on one line when the e-mail is built.
    Reminder.objects.update(title="旧标题\n   办理链接：https://x.example/")
    EmailDigest.objects.update(status=S.RETRYING, next_attempt_at=None)
    outbox.outbox.clear()
    mail.send_batch(list(EmailDigest.objects.values_list("pk", flat=True)))
    assert "\n   办理链接：https://x.example/" not in to(world.edu_unit_filler)[0].body


def test_a_link_that_is_not_a_path_on_this_site_points_to_the_notification_centre(addresses, work, flaky):  # noqa: F811
    world = addresses
    mail.send_batch(swept(work, world, replace(unit_work(world), url="https://evil.example/phish")))
    message = to(world.edu_unit_filler)[0]
    assert "evil.example" not in message.body and "evil.example" not in message.alternatives[0][0]
    assert "办理链接：https://jx.qingdao.example/notifications/" in message.body


def test_a_long_digest_lists_fifty_items_a_group_and_links_to_the_rest(addresses, work, flaky):  # noqa: F811
    world = addresses
    overdue = [unit_work(world, object_id=n, due=DUE - timedelta(days=2)) for n in range(1, 61)]
    soon = [unit_work(world, object_id=n, due=DUE + timedelta(days=1)) for n in range(61, 66)]
    mail.send_batch(swept(work, world, *overdue, *soon))
    message = to(world.edu_unit_filler)[0]
    notification = Notification.objects.get(recipient=world.edu_unit_filler)
    day_page = f"https://jx.qingdao.example/notifications/{notification.pk}/"
    assert message.subject == "【预算绩效管理】2026年12月10日催办提醒：您有65项待办，其中60项已逾期"
    body = message.body
    assert "【已逾期】（60项）" in body and "\n50. " in body and "\n51. " not in body
    assert f"另有 10 项，请登录系统查看：{day_page}" in body
    assert "【即将到期】（5项）" in body and body.count("另有") == 1
    html = message.alternatives[0][0]
    assert html.count("请督促") == 0 and html.count('<tr style="border-bottom') == 55
    assert 'data-more="10"' in html and f'<a href="{day_page}">' in html


# --- an e-mail whose sending task was lost ---------------------------------------------------------


def test_a_pending_email_of_an_earlier_day_is_queued_again_then_given_up(
    addresses,  # noqa: F811
    work,  # noqa: F811
    flaky,  # noqa: F811
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    world = addresses
    real_delay = tasks.send_email_digests.delay
    monkeypatch.setattr(tasks.send_email_digests, "delay", lambda ids: None)  # broker down: the task is lost
    work.append(unit_work(world, due=DUE + timedelta(days=7)))
    with django_capture_on_commit_callbacks(execute=True):
        lost = services.sweep(DUE).email_ids
    assert lost and not outbox.outbox
    monkeypatch.setattr(tasks.send_email_digests, "delay", real_delay)
    work.clear()  # nothing new is due on the next days
    # The sweep task two days later (eager here): the lost e-mails go out, once.
    with time_machine.travel(datetime(2026, 12, 12, 7, 30, tzinfo=TZ), tick=False):
        for _ in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                tasks.sweep()
    people = (world.edu_filler, world.edu_unit_filler)
    assert sorted(m.to[0] for m in outbox.outbox) == sorted(address(u) for u in people)
    assert {m.subject for m in outbox.outbox} == {"【预算绩效管理】2026年12月10日催办提醒：您有1项待办"}
    assert set(EmailDigest.objects.filter(pk__in=lost).values_list("status", flat=True)) == {S.SENT}


def test_a_pending_email_older_than_three_days_is_failed_with_the_reason(addresses, work, flaky, monkeypatch):  # noqa: F811
    world = addresses
    monkeypatch.setattr(tasks.send_email_digests, "delay", lambda ids: None)  # every task lost
    work.append(unit_work(world, due=DUE + timedelta(days=7)))
    lost = services.sweep(DUE).email_ids
    work.clear()
    assert services.sweep(DUE + timedelta(days=3)).email_ids == lost  # still queued again
    report = services.sweep(DUE + timedelta(days=4))
    assert report.email_ids == [] and report.pending_given_up == len(lost)
    rows = set(EmailDigest.objects.filter(pk__in=lost).values_list("status", "last_error"))
    assert rows == {(S.FAILED, services.LOST_PENDING)}
    assert not outbox.outbox
