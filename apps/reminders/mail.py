"""Sending the daily e-mail digests (催办提醒邮件) built by the sweep.

* ``send_batch(ids)`` claims the digests with one ``UPDATE … WHERE status IN (pending, retrying)``:
  only the rows this call claimed are sent, so two workers given the same ids (a redelivered task,
  a manual resend racing the sweep) never send one twice.
* The claimed digests go out over ONE connection, each in its own ``try``: a failure marks that
  digest ``retrying`` with a backoff (1, 2, 4, 8 minutes) and schedules its retry; after
  ``MAX_ATTEMPTS`` it is ``failed``. One bad address never blocks the rest.
* ``recover_stuck()``: a digest left ``sending`` for ``STUCK_AFTER`` (the worker died mid-batch)
  goes back to ``retrying``; ``queue_due_retries()`` queues every retry that is due (a lost retry
  task, or eager mode in development where a countdown cannot wait). The sweep task calls both.
  A worker that is only slow must not send what recovery handed to another: right before each
  message it checks, in one conditional UPDATE, that the digest is still ``sending`` under its own
  claim (and restarts the digest's clock); the task's time limit (``SEND_SOFT_LIMIT``) and
  ``EMAIL_TIMEOUT`` keep one message far below ``STUCK_AFTER``.
* A digest of a person who has since been deactivated, turned e-mail off or has no address is
  not sent: it is marked ``skipped`` with the reason (``unsendable``), also on a retry or resend.
* 涉密 items (``Reminder.classified``) leave the system without their title; each group lists at
  most ``GROUP_SHOWN`` items and says how many more there are (a district finance user can have
  thousands), with a link to that day's notification.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import Case, DateTimeField, F, Prefetch, Value, When
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import EmailDigest, Reminder, stage_label
from .selectors_notifications import safe_link
from .services import clean_title, sweep_lock

logger = logging.getLogger("qdperf.reminders")
S = EmailDigest.Status
MAX_ATTEMPTS = 5
STUCK_AFTER = timedelta(minutes=30)
# A sending task stops well before recovery would take its digests back (``tasks``): what it has
# not sent goes back in line; the hard limit ends a worker hung in a send.
SEND_SOFT_LIMIT = int((STUCK_AFTER - timedelta(minutes=10)).total_seconds())
SEND_HARD_LIMIT = int((STUCK_AFTER - timedelta(minutes=5)).total_seconds())
RETRY_CHUNK = 200
GROUP_SHOWN = 50  # items listed per group in an e-mail; the rest are counted, with a link
SUBJECT_PREFIX = "【预算绩效管理】"
INTERRUPTED = "发送中断（发送进程异常退出），已重新排队"
CLASSIFIED_TITLE = "涉密事项：请登录系统查看"
# Why a digest is not sent now (``unsendable``); the same words as the sweep's ``skip_reason``.
INACTIVE, OPTED_OUT, NO_ADDRESS = "账号已停用", "本人未开启邮件提醒", "未登记邮箱地址"


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def site_url() -> str:
    return getattr(settings, "SITE_URL", "http://127.0.0.1:8000").rstrip("/")


def absolute(url: str) -> str:
    return url if url.startswith(("http://", "https://")) else f"{site_url()}/{url.lstrip('/')}"


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 1, 2, 4, 8 … minutes."""
    return timedelta(minutes=2 ** (attempts - 1))


# --- rendering -------------------------------------------------------------------------------

GROUPS = (
    ("overdue", "已逾期", lambda days: days > 0),
    ("today", "今天到期", lambda days: days == 0),
    ("soon", "即将到期", lambda days: days < 0),
)


def item_title(reminder: Reminder) -> str:
    """What the e-mail says the item is: a 涉密 fund's title stays in the system; every title on
    one line (rows recorded before the sweep cleaned titles may hold a newline)."""
    return CLASSIFIED_TITLE if reminder.classified else clean_title(reminder.title)


def grouped(items: list[Reminder], day: date) -> list[dict]:
    """The digest's items as 已逾期 / 今天到期 / 即将到期 groups (empty groups left out), each
    sorted by due date, at most ``GROUP_SHOWN`` listed (``count`` and ``more`` tell the rest).
    Grouped and labelled by the days from the digest's day to the due date — not by the stage
    that triggered the reminder, which may lie a day or two earlier."""
    groups = []
    for code, label, belongs in GROUPS:
        rows = [r for r in items if belongs(offset(r, day))]
        rows.sort(key=lambda r: (r.due_on, r.title, r.pk))
        if rows:
            groups.append(
                {
                    "code": code,
                    "label": label,
                    "count": len(rows),
                    "more": max(len(rows) - GROUP_SHOWN, 0),
                    "items": [
                        {
                            "title": item_title(r),
                            "due": cn_date(r.due_on),
                            "stage": stage_label(offset(r, day)),
                            "escalated": r.reason != Reminder.Reason.ACTOR,
                            "reason": r.get_reason_display(),
                            # Only a path on this site becomes a link (a source writes it).
                            "link": absolute(safe_link(r.url) or "/notifications/"),
                        }
                        for r in rows[:GROUP_SHOWN]
                    ],
                }
            )
    return groups


def day_link(items: list[Reminder]) -> str:
    """The page of the day's notification (every item of the digest), else the notification centre."""
    notification_id = next((r.notification_id for r in items if r.notification_id), None)
    if notification_id is None:
        return absolute("/notifications/")
    return absolute(reverse("notifications:notification_detail", args=[notification_id]))


def offset(reminder: Reminder, day: date) -> int:
    return (day - reminder.due_on).days


def subject(day: date, total: int, overdue: int) -> str:
    text = f"{SUBJECT_PREFIX}{cn_date(day)}催办提醒：您有{total}项待办"
    return f"{text}，其中{overdue}项已逾期" if overdue else text


def build_message(digest: EmailDigest, items: list[Reminder], conn=None) -> EmailMultiAlternatives:
    """The digest as a plain-text e-mail with an HTML alternative."""
    overdue = sum(1 for r in items if offset(r, digest.day) > 0)
    context = {
        "name": digest.recipient.display_name,
        "day": cn_date(digest.day),
        "total": len(items),
        "overdue": overdue,
        "groups": grouped(items, digest.day),
        "day_link": day_link(items),
        "notifications_link": absolute("/notifications/"),
        "site_url": site_url(),
    }
    message = EmailMultiAlternatives(
        subject=subject(digest.day, len(items), overdue),
        body=render_to_string("reminders/email/digest.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[digest.address],
        connection=conn,
    )
    message.attach_alternative(render_to_string("reminders/email/digest.html", context), "text/html")
    return message


# --- claiming and sending --------------------------------------------------------------------


def claim(digest_ids: list[int], now=None) -> list[int]:
    """Mark the given digests ``sending`` (``claimed_at = now``) if they are still waiting
    (pending, or retrying and due); returns the ids this call claimed. One statement: the row lock
    makes a concurrent claim of the same row wait, then find it no longer waiting.

    It first takes the sweep's lock, so it waits for a sweep that is putting new reminders into
    these digests: claimed earlier, the digest would go out without them, and they would be in no
    other e-mail. Claimed first, the sweep sees the digest ``sending`` and keeps them for tomorrow's."""
    ids = sorted({int(pk) for pk in digest_ids})
    if not ids:
        return []
    now = now or timezone.now()
    table = EmailDigest._meta.db_table
    marks = ", ".join(["%s"] * len(ids))
    with transaction.atomic(), connection.cursor() as cursor:
        sweep_lock(cursor)
        cursor.execute(
            f"UPDATE {table} SET status = %s, claimed_at = %s "
            f"WHERE id IN ({marks}) AND status IN (%s, %s) "
            "AND (next_attempt_at IS NULL OR next_attempt_at <= %s) RETURNING id",
            [S.SENDING, now, *ids, S.PENDING, S.RETRYING, now],
        )
        return sorted(row[0] for row in cursor.fetchall())


def unsendable(user) -> str:
    """Why no e-mail may go to ``user`` now ("" when one may): checked when sending, not only when
    the sweep built the digest — a retry or a resend may come days later."""
    if not user.is_active:
        return INACTIVE
    try:
        opted_out = not user.channel_preference.email
    except ObjectDoesNotExist:  # never chose: e-mail is on
        opted_out = False
    if opted_out:
        return OPTED_OUT
    if not (user.email or "").strip():
        return NO_ADDRESS
    return ""


def _mine(digest: EmailDigest, claimed_at):
    """The digest while it is still ``sending`` under this worker's claim (recovery did not hand
    it to another worker meanwhile)."""
    return EmailDigest.objects.filter(pk=digest.pk, status=S.SENDING, claimed_at=claimed_at)


def _sent(digest: EmailDigest, claimed_at) -> None:
    _mine(digest, claimed_at).update(
        status=S.SENT,
        sent_at=timezone.now(),
        attempts=F("attempts") + 1,
        last_error="",
        next_attempt_at=None,
    )


def _error_label(exc: Exception) -> str:
    """What finance reads on 发送失败; the technical text follows in brackets for the administrator."""
    import smtplib

    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "邮件服务器拒收该邮箱地址"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "邮件服务器登录失败"
    if isinstance(exc, ConnectionError | TimeoutError | smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
        return "连接邮件服务器失败"
    return "邮件发送失败"


def _failed(digest: EmailDigest, exc: Exception, claimed_at) -> str:
    """Record a failed attempt; schedule the retry (after commit) unless attempts are used up."""
    from . import tasks

    attempts = digest.attempts + 1
    error = f"{_error_label(exc)}（{type(exc).__name__}: {exc}）"[:2000]
    if attempts >= MAX_ATTEMPTS:
        status, next_at = S.FAILED, None
    else:
        status, next_at = S.RETRYING, timezone.now() + backoff(attempts)
    _mine(digest, claimed_at).update(status=status, attempts=attempts, last_error=error, next_attempt_at=next_at)
    if next_at is None:
        logger.error("催办邮件 #%s（%s）第 %s 次发送失败，不再重试：%s", digest.pk, digest.address, attempts, error)
    else:
        seconds = int(backoff(attempts).total_seconds())
        logger.warning(
            "催办邮件 #%s（%s）第 %s 次发送失败，%s 分钟后重试：%s",
            digest.pk, digest.address, attempts, seconds // 60, error,
        )  # fmt: skip
        transaction.on_commit(lambda: tasks.retry_email_digest.apply_async((digest.pk,), countdown=seconds))
    return status


def _put_back(ids: list[int], claimed_at) -> None:
    """The task ran out of time: what it claimed and did not start goes back to pending and is
    queued again at once (not left ``sending`` until recovery, half an hour later)."""
    from . import tasks

    back = list(
        EmailDigest.objects.filter(pk__in=ids, status=S.SENDING, claimed_at=claimed_at).values_list("pk", flat=True)
    )
    EmailDigest.objects.filter(pk__in=back, status=S.SENDING, claimed_at=claimed_at).update(
        status=S.PENDING, claimed_at=None
    )
    logger.warning("催办邮件：发送任务超时，余下 %s 封已重新排队", len(back))
    if back:
        transaction.on_commit(lambda: tasks.send_email_digests.delay(back))


def send_batch(digest_ids: list[int]) -> dict:
    """Send the digests among ``digest_ids`` that this call claims, over one connection."""
    stamp = timezone.now()
    claimed = claim(digest_ids, stamp)
    result = {
        "sent": 0, "retrying": 0, "failed": 0, "skipped": 0, "taken_over": 0,
        "not_claimed": len(set(digest_ids)) - len(claimed),
    }  # fmt: skip
    if not claimed:
        return result
    digests = (
        EmailDigest.objects.filter(pk__in=claimed)
        .select_related("recipient", "recipient__channel_preference")
        .prefetch_related(Prefetch("items", queryset=Reminder.objects.order_by("due_on", "pk")))
        .order_by("pk")
    )
    conn = get_connection()
    try:
        conn.open()
    except Exception as exc:  # noqa: BLE001 — every message below then fails on its own and is retried
        logger.warning("催办邮件：连接邮件服务器失败：%s", exc)
    started: set[int] = set()
    try:
        for digest in digests:
            started.add(digest.pk)
            items = list(digest.items.all())
            reason = "没有待提醒事项" if not items else unsendable(digest.recipient)  # no items: removed meanwhile
            if reason:
                if _mine(digest, stamp).update(status=S.SKIPPED, skip_reason=reason):
                    result["skipped"] += 1
                else:
                    result["taken_over"] += 1
                continue
            # Still mine? (Recovery may have handed it to another worker while this one was slow.)
            # The address as it is now; the digest's clock restarts for this message.
            mine_since, digest.address = timezone.now(), digest.recipient.email.strip()
            if not _mine(digest, stamp).update(claimed_at=mine_since, address=digest.address):
                result["taken_over"] += 1
                continue
            try:
                build_message(digest, items, conn).send()
            except SoftTimeLimitExceeded:
                raise  # this one stays ``sending`` (it may have gone out): recovery decides
            except Exception as exc:  # noqa: BLE001 — SMTP, socket, template …: one must not block the others
                result[_failed(digest, exc, mine_since)] += 1
            else:
                _sent(digest, mine_since)
                result["sent"] += 1
    except SoftTimeLimitExceeded:
        _put_back([pk for pk in claimed if pk not in started], stamp)
        raise
    finally:
        try:
            conn.close()
        except Exception:  # noqa: BLE001 — closing a broken connection must not undo the bookkeeping above
            logger.debug("催办邮件：关闭连接出错", exc_info=True)
    logger.info(
        "催办邮件：本批 %s 封，已发送 %s，重试中 %s，发送失败 %s，未发送 %s，已由其他进程接手 %s，"
        "未认领（已在发送或未到重试时间）%s",
        len(claimed), result["sent"], result["retrying"], result["failed"], result["skipped"],
        result["taken_over"], result["not_claimed"],
    )  # fmt: skip
    return result


# --- recovery (called by the sweep task) -------------------------------------------------------


def recover_stuck(now=None) -> int:
    """Digests ``sending`` for longer than ``STUCK_AFTER`` (the worker died): back to ``retrying``,
    due now — or ``failed`` when that was their last attempt. Returns how many."""
    now = now or timezone.now()
    last = Value(MAX_ATTEMPTS - 1)
    count = EmailDigest.objects.filter(status=S.SENDING, claimed_at__lt=now - STUCK_AFTER).update(
        status=Case(When(attempts__gte=last, then=Value(S.FAILED)), default=Value(S.RETRYING)),
        next_attempt_at=Case(
            When(attempts__gte=last, then=Value(None, output_field=DateTimeField())), default=Value(now)
        ),
        attempts=F("attempts") + 1,
        last_error=INTERRUPTED,
    )
    if count:
        logger.warning("催办邮件：%s 封发送中断超过 %s 分钟，已重新排队", count, STUCK_AFTER.seconds // 60)
    return count


def queue_due_retries(now=None) -> int:
    """Queue every ``retrying`` digest whose time has come. A retry task already queued for one of
    them is harmless: whichever claims it first sends it."""
    from . import tasks

    now = now or timezone.now()
    ids = list(
        EmailDigest.objects.filter(status=S.RETRYING, next_attempt_at__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(ids), RETRY_CHUNK):
        tasks.send_email_digests.delay(ids[start : start + RETRY_CHUNK])
    return len(ids)
