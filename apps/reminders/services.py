"""The reminder sweep: open work → due stage → recipients → reminders (exactly once) → daily digests.

One sweep walks every region. It runs a fixed number of queries whatever the number of records:
each source reads its open work in a few queries, recipients come from ``RecipientIndex`` (users'
roles loaded once), reminders are inserted in one statement with ``ON CONFLICT DO NOTHING`` on
their unique key — so two sweeps at once, or a retried one, create each reminder once — and the
digests are built with set-based SQL. E-mail goes out afterwards in Celery tasks (``mail.py``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from apps.core import policy
from apps.core.permissions import RecipientIndex
from apps.orgs.models import Organization

from . import sources as source_registry
from .models import ChannelPreference, EmailDigest, Notification, Reminder, ReminderRule, SweepRun
from .stages import current_stage, stages

logger = logging.getLogger("qdperf.reminders")
R = Reminder.Reason
EMAIL_CHUNK = 200  # digests per sending task: one SMTP connection each


@dataclass
class SweepReport:
    day: date
    open_items: int = 0
    reminders_created: int = 0
    notifications: int = 0
    emails_queued: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    email_ids: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.day:%Y-%m-%d} 提醒扫描：待办事项 {self.open_items} 项，新提醒 {self.reminders_created} 条，"
            f"站内通知 {self.notifications} 人，待发邮件 {self.emails_queued} 封，用时 {self.seconds:.1f} 秒"
        )


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


def due_reminders(today: date, report: SweepReport | None = None, region_id: int | None = None) -> list[tuple]:
    """Every reminder due on ``today`` (in every region, or in ``region_id``) as insert rows, in
    ``COLUMNS`` order — not yet checked against those already sent."""
    rules = RegionRules()
    index = RecipientIndex()
    rows: list[tuple] = []
    content_types: dict[type, int] = {}
    for code, source in source_registry.SOURCES.items():
        count = 0
        for work in source(today, rules.horizon, region_id):
            owner_region = index.orgs[work.owner_id][1]
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
            for user_id, reason in _recipients(index, work, rule, stage).items():
                rows.append(
                    (user_id, ct, work.object_id, work.step, stage, work.due_on, reason,
                     work.title[:200], work.url[:200], work.owner_id, owner_region)
                )  # fmt: skip
        if report is not None:
            report.by_source[code] = count
            report.open_items += count
    return rows


COLUMNS = (
    "recipient_id", "content_type_id", "object_id", "step", "stage", "due_on", "reason",
    "title", "url", "organization_id", "region_id",
)  # fmt: skip
PG_TYPES = ("int", "int", "bigint", "text", "smallint", "date", "text", "text", "text", "int", "int")


def insert_reminders(rows: list[tuple]) -> int:
    """Insert the rows that are new; the unique key drops the ones already there. Returns how many
    were inserted. On PostgreSQL one statement (arrays unnested), however many rows."""
    if not rows:
        return 0
    now = timezone.now()
    if connection.vendor == "postgresql":
        columns = list(zip(*rows, strict=True))
        select = ", ".join(f"%s::{t}[]" for t in PG_TYPES)
        sql = (
            f"INSERT INTO reminders_reminder ({', '.join(COLUMNS)}, created_at) "
            f"SELECT *, %s FROM unnest({select}) "
            "ON CONFLICT ON CONSTRAINT reminder_exactly_once DO NOTHING"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [now, *[list(c) for c in columns]])
            return cursor.rowcount
    before = Reminder.objects.count()
    Reminder.objects.bulk_create(
        [Reminder(**dict(zip(COLUMNS, row, strict=True))) for row in rows], ignore_conflicts=True, batch_size=500
    )
    return Reminder.objects.count() - before


def build_digests(today: date) -> tuple[int, list[int]]:
    """Put every reminder not yet in a digest into today's in-app notification (marked unread again
    if the person had read today's) and today's e-mail — unless today's e-mail has already gone:
    those wait for tomorrow's, so nobody gets two e-mails a day. Returns (notifications touched,
    ids of e-mails to send)."""
    now = timezone.now()
    N, E, M = Notification._meta.db_table, EmailDigest._meta.db_table, Reminder._meta.db_table
    U, P = get_user_model()._meta.db_table, ChannelPreference._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {N} (recipient_id, day, created_at, updated_at) "
            f"SELECT DISTINCT recipient_id, %s, %s, %s FROM {M} WHERE notification_id IS NULL "
            "ON CONFLICT (recipient_id, day) DO UPDATE SET read_at = NULL, updated_at = EXCLUDED.updated_at",
            [today, now, now],
        )
        notified = cursor.rowcount
        cursor.execute(
            f"UPDATE {M} SET notification_id = (SELECT n.id FROM {N} n WHERE n.recipient_id = {M}.recipient_id "
            "AND n.day = %s) WHERE notification_id IS NULL",
            [today],
        )
        S = EmailDigest.Status
        cursor.execute(
            f"INSERT INTO {E} (recipient_id, day, address, status, skip_reason, attempts, last_error, created_at) "
            f"SELECT DISTINCT r.recipient_id, %s, u.email, "
            "CASE WHEN p.email = FALSE OR u.email = '' THEN %s ELSE %s END, "
            "CASE WHEN p.email = FALSE THEN %s WHEN u.email = '' THEN %s ELSE '' END, 0, '', %s "
            f"FROM {M} r JOIN {U} u ON u.id = r.recipient_id "
            f"LEFT JOIN {P} p ON p.user_id = r.recipient_id "
            "WHERE r.email_digest_id IS NULL ON CONFLICT (recipient_id, day) DO NOTHING",
            [today, S.SKIPPED, S.PENDING, "本人未开启邮件提醒", "未登记邮箱地址", now],
        )
        cursor.execute(
            f"UPDATE {M} SET email_digest_id = (SELECT d.id FROM {E} d WHERE d.recipient_id = {M}.recipient_id "
            "AND d.day = %s AND d.status IN (%s, %s)) "
            f"WHERE email_digest_id IS NULL AND EXISTS (SELECT 1 FROM {E} d WHERE d.recipient_id = {M}.recipient_id "
            "AND d.day = %s AND d.status IN (%s, %s))",
            [today, S.PENDING, S.SKIPPED, today, S.PENDING, S.SKIPPED],
        )
    pending = list(
        EmailDigest.objects.filter(day=today, status=EmailDigest.Status.PENDING, claimed_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return notified, pending


def sweep(today: date | None = None) -> SweepReport:
    """Find the reminders due today, record each once, build the digests, queue the e-mails."""
    from . import tasks

    started = time.monotonic()
    today = today or timezone.localdate()
    run = SweepRun.objects.create(day=today)
    report = SweepReport(day=today)
    try:
        rows = due_reminders(today, report)
        report.reminders_created = insert_reminders(rows)
        report.notifications, report.email_ids = build_digests(today)
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
    logger.info("%s；按来源：%s", report, report.by_source)
    return report
