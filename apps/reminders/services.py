"""The reminder sweep: open work → due stage → recipients → reminders (exactly once) → daily digests.

One sweep walks every region. It runs a fixed number of queries whatever the number of records:
each source reads its open work in a few queries, recipients come from ``RecipientIndex`` (users'
roles loaded once), and the reminders with their daily digests are written by set-based SQL in one
transaction (``record``), the reminders with ``ON CONFLICT DO NOTHING`` on their unique key — so
two sweeps at once, or a retried one, create each reminder once. E-mail goes out afterwards in
Celery tasks (``mail.py``).

At scale (``bench/bench_reminders.py``: ≈92,000 open records, ≈24,000 users, 277,000 reminders
when every record is due) the time goes to writing the reminder rows and their indexes; each row
is therefore written once, already pointing at its notification and e-mail.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from apps.core import policy
from apps.core.permissions import RecipientIndex, Scope, get_action
from apps.orgs.models import Organization

from . import sources as source_registry
from .models import ChannelPreference, EmailDigest, Notification, Reminder, ReminderRule, SweepRun
from .stages import current_stage, stages

logger = logging.getLogger("qdperf.reminders")
R = Reminder.Reason
EMAIL_CHUNK = 200  # digests per sending task: one SMTP connection each
TITLE_MAX = 200  # Reminder.title's length
# A pending e-mail whose sending task was lost (broker down, worker restarted before it ran) is
# queued again by the next sweeps for this many days; older ones are given up as failed (they
# show under 发送失败, where finance can resend them by hand).
PENDING_RETRY_DAYS = 3
LOST_PENDING = "发送任务丢失，超过3天未发出，已停止自动发送；如仍需要，可手工重发"


@dataclass
class SweepReport:
    day: date
    open_items: int = 0  # work due today (a stage reached), the figure the log and SweepRun keep
    walked: int = 0  # work the sources returned (open, due within the horizon or overdue)
    unknown_owner: int = 0  # work of an organisation created after the sweep loaded them (next sweep)
    pending_given_up: int = 0  # e-mails of earlier days never sent, now failed (``PENDING_RETRY_DAYS``)
    reminders_created: int = 0
    notifications: int = 0
    emails_queued: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    email_ids: list[int] = field(default_factory=list)
    recovered: int = 0  # e-mails a dead worker left half-sent, back in line (``sweep_round``)
    retries_queued: int = 0  # failed e-mails whose retry time has come (``sweep_round``)

    def __str__(self) -> str:
        text = (
            f"{self.day:%Y-%m-%d} 提醒扫描：待办事项 {self.open_items} 项，新提醒 {self.reminders_created} 条，"
            f"站内通知 {self.notifications} 人，待发邮件 {self.emails_queued} 封，用时 {self.seconds:.1f} 秒"
        )
        if self.recovered or self.retries_queued:
            text += f"；中断后重新排队 {self.recovered} 封，到期重试 {self.retries_queued} 封"
        return text

    @property
    def by_source_text(self) -> str:
        return "、".join(f"{SOURCE_LABELS.get(code, code)} {count} 项" for code, count in self.by_source.items())


# The sources' codes as the log and ``sweep_reminders`` print them.
SOURCE_LABELS = {
    "targets": "绩效目标",
    "monitoring": "运行监控",
    "self_evaluation": "单位自评",
    "key_evaluations": "重点评价",
    "rectification": "整改",
    "disclosure": "信息公开",
    "fiscal_evaluation": "财政运行评价",
}


class RegionRules:
    """Each region's rule (its finance bureau's ``ReminderRule``, else the defaults), with stages."""

    def __init__(self) -> None:
        self.default = ReminderRule.default()
        self._default_stages = stages(self.default)
        self.by_region: dict[int, tuple[ReminderRule, list[int]]] = {
            rule.organization.region_id: (rule, stages(rule))
            for rule in ReminderRule.objects.select_related("organization").filter(
                organization__kind=Organization.Kind.FINANCE
            )
        }

    def get(self, region_id: int) -> tuple[ReminderRule, list[int]]:
        return self.by_region.get(region_id, (self.default, self._default_stages))

    @property
    def horizon(self) -> int:
        rules = [self.default, *(rule for rule, _ in self.by_region.values() if rule.enabled)]
        return max((max(rule.days_before_list, default=0) for rule in rules), default=0)


def _recipients(index: RecipientIndex, work, rule: ReminderRule, stage: int) -> dict[int, str]:
    """Who hears of ``work`` at ``stage``: the people who must act, then — once it is overdue past
    the rule's days — the department's approver and the department's finance reviewer."""
    actors = index.who_can(work.action, work.owner_id, work.model, work.object_id)
    if work.party == source_registry.Party.UNIT:
        # The approver may edit a unit's work too, but hears of it only when it escalates.
        actors = (actors - index.holders(policy.ESCALATE_TO_DEPARTMENT, work.owner_id)) or actors
    found = dict.fromkeys(actors, R.ACTOR)
    if work.party == source_registry.Party.FINANCE:
        return found
    if rule.escalate_department_after and stage >= rule.escalate_department_after:
        for user_id in index.holders(policy.ESCALATE_TO_DEPARTMENT, work.owner_id):
            found.setdefault(user_id, R.DEPARTMENT)
    if rule.escalate_finance_after and stage >= rule.escalate_finance_after:
        finance = index.holders(policy.ESCALATE_TO_FINANCE, work.owner_id) or index.holders(
            policy.ESCALATE_TO_FINANCE_FALLBACK, work.owner_id
        )
        for user_id in finance:
            found.setdefault(user_id, R.FINANCE)
    return found


class Recipients:
    """``_recipients`` remembered per (action, owner, party, escalation reached): the thousands of
    records of one unit and step share their recipients, so each set is computed once. Work whose
    action reaches people assigned one by one (experts: an object scope) is asked every time."""

    def __init__(self, index: RecipientIndex) -> None:
        self.index = index
        self._memo: dict[tuple, tuple[tuple[int, str], ...]] = {}
        self._per_object: dict[str, bool] = {}

    def __call__(self, work, rule: ReminderRule, stage: int) -> tuple[tuple[int, str], ...]:
        per_object = self._per_object.get(work.action)
        if per_object is None:
            per_object = Scope.OBJECT in get_action(work.action).grants.values()
            self._per_object[work.action] = per_object
        if per_object:
            return tuple(_recipients(self.index, work, rule, stage).items())
        key = (
            work.action, work.owner_id, work.party,
            bool(rule.escalate_department_after and stage >= rule.escalate_department_after),
            bool(rule.escalate_finance_after and stage >= rule.escalate_finance_after),
        )  # fmt: skip
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = tuple(_recipients(self.index, work, rule, stage).items())
        return found


def clean_title(title: str) -> str:
    """The title on one line (a newline in a fund's name must not start a line of its own in the
    plain-text e-mail, e.g. a fake 办理链接), cut to ``TITLE_MAX`` with an ellipsis."""
    title = " ".join(title.split())
    return title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1] + "…"


def due_reminders(today: date, report: SweepReport | None = None, region_id: int | None = None) -> list[tuple]:
    """Every reminder due on ``today`` (in every region, or in ``region_id``) as insert rows, in
    ``COLUMNS`` order — not yet checked against those already sent."""
    rules = RegionRules()
    index = RecipientIndex()
    recipients = Recipients(index)
    rows: list[tuple] = []
    content_types: dict[type, int] = {}
    walked = unknown = 0
    for code, source in source_registry.SOURCES.items():
        count = 0
        for work in source(today, rules.horizon, region_id):
            walked += 1
            owner = index.orgs.get(work.owner_id)
            if owner is None:
                # Created after the index was loaded: the next sweep (which loads it) reminds it;
                # one such record must not stop everyone else's reminders.
                unknown += 1
                logger.warning(
                    "催办提醒扫描：%s 的事项 %s #%s 所属机构 %s 在本次扫描开始后才创建，留待下次扫描",
                    code, work.model.__name__, work.object_id, work.owner_id,
                )  # fmt: skip
                continue
            owner_region = owner[1]
            rule, rule_stages = rules.get(owner_region)
            if not rule.enabled:
                continue
            stage = current_stage(rule_stages, rule.stop_after, work.due_on, today)
            if stage is None:
                continue
            count += 1
            if work.model not in content_types:
                content_types[work.model] = ContentType.objects.get_for_model(work.model).pk
            ct = content_types[work.model]
            title, classified = clean_title(work.title), bool(work.classified)
            for user_id, reason in recipients(work, rule, stage):
                rows.append(
                    (user_id, ct, work.object_id, work.step, stage, work.due_on, reason,
                     title, work.url[:200], work.owner_id, owner_region, classified)
                )  # fmt: skip
        if report is not None:
            report.by_source[code] = count
            report.open_items += count
    if report is not None:
        report.walked = walked
        report.unknown_owner = unknown
    return rows


COLUMNS = (
    "recipient_id", "content_type_id", "object_id", "step", "stage", "due_on", "reason",
    "title", "url", "organization_id", "region_id", "classified",
)  # fmt: skip
PG_TYPES = ("int", "int", "bigint", "text", "smallint", "date", "text", "text", "text", "int", "int", "bool")
KEY = "content_type_id, object_id, step, recipient_id, stage, due_on"  # the reminder_exactly_once key
# Two sweeps at once record one after the other (a transaction-level lock in the database, released
# at commit): the unique key alone keeps each reminder once, the lock keeps their row locks from
# crossing (a deadlock would fail one of them).
SWEEP_LOCK = 7_000_001


def insert_reminders(rows: list[tuple]) -> int:
    """Insert the rows that are new; the unique key drops the ones already there. Returns how many
    were inserted. The digests are built afterwards (``build_digests``). The sweep itself uses
    ``record`` on PostgreSQL, which does both at once."""
    if not rows:
        return 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Reminder._meta.db_table} ({', '.join(COLUMNS)}, created_at) "
                f"SELECT *, %s FROM unnest({_arrays()}) AS u({', '.join(COLUMNS)}) ORDER BY {KEY} "
                "ON CONFLICT ON CONSTRAINT reminder_exactly_once DO NOTHING",
                [timezone.now(), *_columns(rows)],
            )
            return cursor.rowcount
    rows = _not_yet_reached(rows)
    before = Reminder.objects.count()
    Reminder.objects.bulk_create(
        [Reminder(**dict(zip(COLUMNS, row, strict=True))) for row in rows], ignore_conflicts=True, batch_size=500
    )
    return Reminder.objects.count() - before


def _not_yet_reached(rows: list[tuple]) -> list[tuple]:
    """Drop rows whose person already heard of that record, step and due date at this stage or a
    later one (the SQLite path of ``record``'s anti-join): a region that changes its rule's days
    does not remind the same work twice."""
    reached: dict[tuple, int] = {}
    existing = Reminder.objects.filter(due_on__in={row[5] for row in rows}).values_list(
        "content_type_id", "object_id", "step", "recipient_id", "due_on", "stage"
    )
    for *key, stage in existing:
        reached[tuple(key)] = max(stage, reached.get(tuple(key), stage))
    return [row for row in rows if reached.get((row[1], row[2], row[3], row[0], row[5]), row[4] - 1) < row[4]]


def _arrays() -> str:
    return ", ".join(f"%s::{t}[]" for t in PG_TYPES)


def _columns(rows: list[tuple]) -> list[str]:
    """The rows as one array literal per column ('{1,2,3}', '{"a","b"}'): PostgreSQL reads such a
    string in one pass, where a Python list becomes ARRAY[1,2,3] — an expression of ≈300,000
    elements for the server to parse, six times slower."""
    if not rows:
        return ["{}"] * len(COLUMNS)
    return [_literal(column, pg_type) for column, pg_type in zip(zip(*rows, strict=True), PG_TYPES, strict=True)]


def _literal(values, pg_type: str) -> str:
    if pg_type == "text":
        return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"
    if pg_type == "date":
        return "{" + ",".join(v.isoformat() for v in values) + "}"
    if pg_type == "bool":
        return "{" + ",".join("t" if v else "f" for v in values) + "}"
    return "{" + ",".join(map(str, values)) + "}"


def sweep_lock(cursor) -> None:
    """Wait for a sweep recording in another transaction, and hold it off until this one commits.
    The sweep takes it; so does ``mail.claim``, so that a digest is never claimed for sending
    while a sweep is putting new reminders into it (they would never be e-mailed)."""
    if connection.vendor == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SWEEP_LOCK])


def _digest_rows_sql(source: str) -> str:
    """INSERT today's e-mail digest of everyone in ``source`` (a table or subquery with
    ``recipient_id``) who has none yet: pending, or skipped with the reason."""
    E, U = EmailDigest._meta.db_table, get_user_model()._meta.db_table
    P = ChannelPreference._meta.db_table
    return (
        f"INSERT INTO {E} (recipient_id, day, address, status, skip_reason, attempts, last_error, created_at) "
        f"SELECT r.recipient_id, %s, u.email, "
        "CASE WHEN p.email = FALSE OR u.email = '' THEN %s ELSE %s END, "
        "CASE WHEN p.email = FALSE THEN %s WHEN u.email = '' THEN %s ELSE '' END, 0, '', %s "
        f"FROM (SELECT DISTINCT recipient_id FROM {source}) r JOIN {U} u ON u.id = r.recipient_id "
        f"LEFT JOIN {P} p ON p.user_id = r.recipient_id "
        "ORDER BY r.recipient_id ON CONFLICT (recipient_id, day) DO NOTHING"
    )


def _digest_params(today: date, now) -> list:
    S = EmailDigest.Status
    return [today, S.SKIPPED, S.PENDING, "本人未开启邮件提醒", "未登记邮箱地址", now]


def build_digests(today: date) -> tuple[int, list[int]]:
    """Put every reminder not yet in a digest into today's in-app notification (marked unread again
    if the person had read today's) and today's e-mail — unless today's e-mail has already gone:
    those wait for tomorrow's, so nobody gets two e-mails a day. Returns (notifications touched,
    ids of e-mails to send).

    On PostgreSQL the sweep's new reminders are born in their digests (``record``): here only the
    ones left over — found after the day's e-mail went out, or recorded by a sweep that failed
    half-way — which the partial indexes on the two empty columns find without a scan."""
    now = timezone.now()
    N, E, M = Notification._meta.db_table, EmailDigest._meta.db_table, Reminder._meta.db_table
    S = EmailDigest.Status
    with transaction.atomic(), connection.cursor() as cursor:
        sweep_lock(cursor)
        cursor.execute(
            f"INSERT INTO {N} (recipient_id, day, created_at, updated_at) "
            f"SELECT DISTINCT recipient_id, %s, %s, %s FROM {M} WHERE notification_id IS NULL "
            "ORDER BY recipient_id "
            "ON CONFLICT (recipient_id, day) DO UPDATE SET read_at = NULL, updated_at = EXCLUDED.updated_at",
            [today, now, now],
        )
        notified = cursor.rowcount
        cursor.execute(
            f"UPDATE {M} SET notification_id = (SELECT n.id FROM {N} n WHERE n.recipient_id = {M}.recipient_id "
            "AND n.day = %s) WHERE notification_id IS NULL",
            [today],
        )
        cursor.execute(_digest_rows_sql(f"{M} WHERE email_digest_id IS NULL"), _digest_params(today, now))
        cursor.execute(
            f"UPDATE {M} SET email_digest_id = (SELECT d.id FROM {E} d WHERE d.recipient_id = {M}.recipient_id "
            "AND d.day = %s AND d.status IN (%s, %s)) "
            f"WHERE email_digest_id IS NULL AND EXISTS (SELECT 1 FROM {E} d WHERE d.recipient_id = {M}.recipient_id "
            "AND d.day = %s AND d.status IN (%s, %s))",
            [today, S.PENDING, S.SKIPPED, today, S.PENDING, S.SKIPPED],
        )
    return notified, _pending(today)


def _pending(today: date) -> list[int]:
    """E-mails waiting to be sent: today's, and those of the last ``PENDING_RETRY_DAYS`` days whose
    sending task was lost. All of them, not only those this sweep filled: a sweep retried after
    its sending tasks were lost queues them again (``mail.claim`` sends each once)."""
    return list(
        EmailDigest.objects.filter(
            day__range=(today - timedelta(days=PENDING_RETRY_DAYS), today),
            status=EmailDigest.Status.PENDING,
            claimed_at__isnull=True,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def give_up_lost_pending(today: date) -> int:
    """E-mails still pending, never claimed, older than ``PENDING_RETRY_DAYS``: failed with the
    reason (a reminder of a week ago is no use any more; finance sees it under 发送失败)."""
    count = EmailDigest.objects.filter(
        day__lt=today - timedelta(days=PENDING_RETRY_DAYS),
        status=EmailDigest.Status.PENDING,
        claimed_at__isnull=True,
    ).update(status=EmailDigest.Status.FAILED, last_error=LOST_PENDING, next_attempt_at=None)
    if count:
        logger.warning("催办邮件：%s 封超过 %s 天未发出（发送任务丢失），已标记为发送失败", count, PENDING_RETRY_DAYS)
    return count


def record(today: date, rows: list[tuple]) -> tuple[int, int, list[int]]:
    """Record the due reminders and put them in today's digests; returns (reminders created,
    notifications touched, ids of e-mails to send).

    On PostgreSQL in one transaction of a fixed number of statements: the rows go to a temporary
    table without those already recorded (an anti-join on the unique key, so a second sweep stops
    here), the new ones' recipients get today's notification and e-mail, then the reminders are
    inserted already pointing at them — each row written once, not inserted and then updated
    twice (every update of a row rewrites it and all its indexes). Elsewhere (SQLite, the
    zero-setup ``make run``): ``insert_reminders`` then ``build_digests``."""
    if connection.vendor != "postgresql":
        created = insert_reminders(rows)
        notified, pending = build_digests(today)
        return created, notified, pending
    now = timezone.now()
    N, E, M = Notification._meta.db_table, EmailDigest._meta.db_table, Reminder._meta.db_table
    S = EmailDigest.Status
    columns = ", ".join(COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        sweep_lock(cursor)
        # Sorting ≈300,000 rows by the key (the anti-join, and inserting in key order) spills to
        # disk under the default 4 MB; this transaction only.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(
            f"CREATE TEMPORARY TABLE reminder_batch ON COMMIT DROP AS SELECT * FROM unnest({_arrays()}) "
            f"AS u({columns}) WHERE NOT EXISTS (SELECT 1 FROM {M} r WHERE "
            + " AND ".join(f"r.{c} {'>=' if c == 'stage' else '='} u.{c}" for c in KEY.split(", "))
            + ")",
            _columns(rows),
        )
        cursor.execute("ANALYZE reminder_batch")
        cursor.execute(
            f"INSERT INTO {N} (recipient_id, day, created_at, updated_at) "
            "SELECT DISTINCT recipient_id, %s, %s, %s FROM reminder_batch ORDER BY recipient_id "
            "ON CONFLICT (recipient_id, day) DO UPDATE SET read_at = NULL, updated_at = EXCLUDED.updated_at",
            [today, now, now],
        )
        notified = cursor.rowcount
        cursor.execute(_digest_rows_sql("reminder_batch"), _digest_params(today, now))
        # Each new reminder's two foreign keys are checked against these tables. When their
        # statistics say "empty" (a new installation, or just vacuumed), the checks plan a
        # sequential scan — one per row, 277,000 of them: four times slower in the benchmark, and
        # quadratic. A sample (this transaction's rows included) keeps them index lookups.
        cursor.execute(f"ANALYZE {N}, {E}")
        cursor.execute(
            f"INSERT INTO {M} ({columns}, created_at, notification_id, email_digest_id) "
            f"SELECT {', '.join('b.' + c for c in COLUMNS)}, %s, n.id, d.id FROM reminder_batch b "
            f"JOIN {N} n ON n.recipient_id = b.recipient_id AND n.day = %s "
            f"LEFT JOIN {E} d ON d.recipient_id = b.recipient_id AND d.day = %s AND d.status IN (%s, %s) "
            f"ORDER BY {', '.join('b.' + c for c in KEY.split(', '))} "
            "ON CONFLICT ON CONSTRAINT reminder_exactly_once DO NOTHING",
            [now, today, today, S.PENDING, S.SKIPPED],
        )
        created = cursor.rowcount
        cursor.execute("DROP TABLE reminder_batch")  # not left for a second sweep in the same transaction
        # What earlier sweeps left out of a digest (found after that day's e-mail went out).
        more, pending = build_digests(today)
    return created, notified + more, pending


def sweep(today: date | None = None) -> SweepReport:
    """Find the reminders due today, record each once, build the digests, queue the e-mails."""
    from . import tasks

    started = time.monotonic()
    today = today or timezone.localdate()
    run = SweepRun.objects.create(day=today)
    report = SweepReport(day=today)
    try:
        rows = due_reminders(today, report)
        report.reminders_created, report.notifications, report.email_ids = record(today, rows)
        report.pending_given_up = give_up_lost_pending(today)
    except Exception as exc:
        SweepRun.objects.filter(pk=run.pk).update(finished_at=timezone.now(), error=repr(exc)[:2000])
        logger.exception("reminder sweep for %s failed", today)
        raise
    report.emails_queued = len(report.email_ids)
    for start in range(0, len(report.email_ids), EMAIL_CHUNK):
        chunk = report.email_ids[start : start + EMAIL_CHUNK]
        transaction.on_commit(lambda chunk=chunk: tasks.send_email_digests.delay(chunk))
    report.seconds = time.monotonic() - started
    SweepRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(),
        open_items=report.open_items,
        reminders_created=report.reminders_created,
        notifications=report.notifications,
        emails_queued=report.emails_queued,
    )
    logger.info("%s；按来源：%s", report, report.by_source_text or "无")
    return report


def sweep_round(today: date | None = None) -> SweepReport:
    """What the daily task and ``manage.py sweep_reminders`` run: put e-mails a dead worker left
    half-sent back in line, sweep (which also queues the pending e-mails of the last days whose task
    was lost), then queue the retries that are due."""
    from . import mail

    recovered = mail.recover_stuck()
    report = sweep(today)
    report.recovered, report.retries_queued = recovered, mail.queue_due_retries()
    return report
