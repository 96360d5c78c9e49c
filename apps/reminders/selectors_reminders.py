"""Reads of finance's reminder pages and API (/reminders/, /api/v1/reminders/ …).

Every read starts from ``restrict(user, "reminder.view")``: finance bureaus see their region's
reminders (``Reminder.region``) and e-mails (through the recipient's organisation); a sector
division sees those of its assigned departments.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from apps.orgs.models import Organization, WorkStep

from . import services
from .models import EmailDigest, Reminder, ReminderRule, SweepRun, stage_label
from .selectors_notifications import safe_link
from .stages import stages

VIEW = "reminder.view"
MANAGE = "reminder.manage"
BEAT_TASK = "reminders.sweep"  # the task of the beat entry "每日催办提醒扫描" (migration 0002)
SWEEP_COMMAND = "python manage.py sweep_reminders"
PROBLEM_STATUSES = (EmailDigest.Status.FAILED, EmailDigest.Status.RETRYING)
UPCOMING_SHOWN = 50  # work items listed per day and step on the page; the rest are counted

# Steps of the work calendar, and the per-record steps sources add (a rectification's deadline).
STEP_LABELS = {**dict(WorkStep.choices), "rectification": "整改", "fiscal_evaluation": "财政运行评价"}


def step_label(code: str) -> str:
    return STEP_LABELS.get(code, code)


def finance_bureau_of(user) -> Organization | None:
    """The finance bureau the user works in: its own organisation, or the bureau above its division."""
    org = getattr(user, "organization", None)
    if org is None:
        return None
    bureau = org if org.kind == Organization.Kind.FINANCE else org.parent
    return bureau if bureau is not None and bureau.kind == Organization.Kind.FINANCE else None


def region_rule(user) -> tuple[Organization | None, ReminderRule, bool]:
    """(the user's finance bureau, its reminder rule, whether that is the unsaved default)."""
    bureau = finance_bureau_of(user)
    if bureau is not None:
        rule = ReminderRule.objects.filter(organization=bureau).first()
        if rule is not None:
            return bureau, rule, False
    return bureau, ReminderRule.default(bureau), True


def rule_stages(rule: ReminderRule) -> list[str]:
    """The rule's reminders in words, in order: ["到期前7天", …, "到期当日", "逾期1天（升级至部门）", …]."""
    if not rule.enabled:
        return []
    words = []
    for stage in stages(rule):
        if stage < 0:
            words.append(f"到期前{-stage}天")
        elif stage == 0:
            words.append("到期当日")
        else:
            to = [
                label
                for days, label in (
                    (rule.escalate_department_after, "部门审核人"),
                    (rule.escalate_finance_after, "财政审核人"),
                )
                if days == stage
            ]
            words.append(f"逾期{stage}天（升级提醒{'、'.join(to)}）")
    return words


def day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# --- 已发送 -----------------------------------------------------------------------------------


def reminder_list(
    user,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    department: Organization | None = None,
    step: str = "",
    reason: str = "",
    q: str = "",
) -> QuerySet:
    """Reminders the user may see, newest first, with everything a row shows joined in."""
    rows = Reminder.objects.restrict(user, VIEW)
    if date_from:
        rows = rows.filter(created_at__gte=day_start(date_from))
    if date_to:
        rows = rows.filter(created_at__lt=day_start(date_to + timedelta(days=1)))
    if department is not None:
        rows = rows.filter(organization__path__startswith=department.path)
    if step:
        rows = rows.filter(step=step)
    if reason:
        rows = rows.filter(reason=reason)
    if q:
        rows = rows.filter(Q(recipient__real_name__icontains=q) | Q(recipient__username__icontains=q))
    return rows.select_related(
        "recipient", "recipient__organization", "organization", "organization__parent", "notification", "email_digest"
    ).order_by("-created_at", "-pk")


# --- 发送失败 / 重试中 -------------------------------------------------------------------------


def digest_list(user, *, status: str = "", action: str = VIEW) -> QuerySet:
    """E-mail digests the user may see (``status``: one status, or "problems" = failed + retrying)."""
    rows = EmailDigest.objects.restrict(user, action)
    if status == "problems":
        rows = rows.filter(status__in=PROBLEM_STATUSES)
    elif status:
        rows = rows.filter(status=status)
    return (
        rows.select_related("recipient", "recipient__organization")
        .annotate(item_count=Count("items"))
        .order_by("-day", "-pk")
    )


# --- 概览 -------------------------------------------------------------------------------------


@dataclass
class BeatEntry:
    name: str
    enabled: bool
    schedule: str
    next_run: datetime | None
    last_run: datetime | None


def beat_entry(now: datetime | None = None) -> BeatEntry | None:
    """The periodic sweep in django-celery-beat's schedule, with its next run (None: not scheduled)."""
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.filter(task=BEAT_TASK).select_related("crontab", "interval").order_by("pk").first()
    if task is None:
        return None
    now = now or timezone.now()
    next_run = None
    if task.enabled:
        try:
            # celery's estimate falls a little short of the minute: show the minute it fires.
            next_run = (now + task.schedule.remaining_estimate(now) + timedelta(seconds=30)).replace(
                second=0, microsecond=0
            )
        except Exception:  # noqa: BLE001 — an odd schedule in the admin must not break the page
            next_run = None
    if task.crontab_id:
        c = task.crontab
        schedule = f"{c.minute} {c.hour} {c.day_of_month} {c.month_of_year} {c.day_of_week}（{_zone(c.timezone)}）"
        daily = (c.day_of_month, c.month_of_year, c.day_of_week) == ("*", "*", "*")
        if daily and c.hour.isdigit() and c.minute.isdigit():
            schedule = f"每天 {int(c.hour):02d}:{int(c.minute):02d}（{_zone(c.timezone)}）"
    elif task.interval_id:
        schedule = str(task.interval)
    else:
        schedule = "—"
    return BeatEntry(task.name, task.enabled, schedule, next_run, task.last_run_at)


def overview(user, today: date) -> dict:
    """The 概览 figures: the last sweeps, today's reminders and e-mails in the user's scope."""
    start = day_start(today)
    reminders = Reminder.objects.restrict(user, VIEW).filter(created_at__gte=start)
    today_figures = reminders.aggregate(
        reminders=Count("pk"),
        people=Count("recipient", distinct=True),
        escalated=Count("pk", filter=~Q(reason=Reminder.Reason.ACTOR)),
    )
    by_status = dict(
        EmailDigest.objects.restrict(user, VIEW)
        .filter(day=today)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    problems = EmailDigest.objects.restrict(user, VIEW).filter(status__in=PROBLEM_STATUSES).count()
    return {
        "today": today,
        "figures": today_figures,
        "emails": [(label, by_status.get(code, 0), code) for code, label in EmailDigest.Status.choices],
        "problems": problems,
        "runs": list(SweepRun.objects.order_by("-started_at")[:10]),
        "beat": beat_entry(),
        "command": SWEEP_COMMAND,
    }


# --- 即将提醒 ---------------------------------------------------------------------------------


REASONS = dict(Reminder.Reason.choices)


@dataclass
class UpcomingItem:
    title: str
    url: str
    due_on: date
    stage: int
    recipients: list[tuple[int, str]] = field(default_factory=list)  # (user id, reason)
    names: list[str] = field(default_factory=list)  # the recipients' names, in the same order

    @property
    def stage_label(self) -> str:
        return stage_label(self.stage)

    @property
    def link(self) -> str:
        return safe_link(self.url)

    @property
    def labels(self) -> list[str]:
        """The page's recipients: 张三, 李四（升级至部门）."""
        return [
            name + ("" if reason == Reminder.Reason.ACTOR else f"（{REASONS[reason]}）")
            for (_uid, reason), name in zip(self.recipients, self.names, strict=True)
        ]


@dataclass
class UpcomingGroup:
    day: date
    step: str
    items: list[UpcomingItem]

    @property
    def step_label(self) -> str:
        return step_label(self.step)

    @property
    def recipient_count(self) -> int:
        return len({uid for item in self.items for uid, _ in item.recipients})

    @property
    def shown(self) -> list[UpcomingItem]:
        return self.items[:UPCOMING_SHOWN]

    @property
    def more(self) -> int:
        return max(len(self.items) - UPCOMING_SHOWN, 0)


# Positions in ``services.COLUMNS``.
_RECIPIENT, _CT, _OBJECT, _STEP, _STAGE, _DUE, _REASON, _TITLE, _URL, _ORG, _REGION, _CLASSIFIED = range(12)


def _key(row: tuple) -> tuple:
    """The reminder's exactly-once key, as in ``Reminder``'s unique constraint."""
    return (row[_CT], row[_OBJECT], row[_STEP], row[_RECIPIENT], row[_STAGE], row[_DUE])


def upcoming(user, today: date, days: int = 7) -> list[UpcomingGroup]:
    """What the sweep will send in the user's region on each of ``days`` days from ``today``, minus
    what is already recorded (or will be by an earlier day's sweep), grouped by day and step.

    One ``due_reminders`` call per day (each a fixed number of queries), then one query for the
    reminders already recorded, one for the visible organisations and one for recipients' names."""
    org = getattr(user, "organization", None)
    if org is None:
        return []
    region_id = org.region_id
    visible = set(Organization.objects.restrict(user, VIEW).values_list("pk", flat=True))
    by_day: list[tuple[date, list[tuple]]] = []
    due_dates: set[date] = set()
    for n in range(days):
        day = today + timedelta(days=n)
        rows = [
            r
            for r in services.due_reminders(day, region_id=region_id)
            if r[_REGION] == region_id and r[_ORG] in visible
        ]
        by_day.append((day, rows))
        due_dates |= {r[_DUE] for r in rows}
    seen = {
        (ct, obj, step, rcpt, stage, due)
        for ct, obj, step, rcpt, stage, due in Reminder.objects.filter(region_id=region_id, due_on__in=due_dates)
        .order_by()
        .values_list("content_type_id", "object_id", "step", "recipient_id", "stage", "due_on")
    } if due_dates else set()  # fmt: skip
    groups: list[UpcomingGroup] = []
    user_ids: set[int] = set()
    for day, rows in by_day:
        work: dict[str, dict[tuple, UpcomingItem]] = defaultdict(dict)
        for row in rows:
            key = _key(row)
            if key in seen:
                continue
            seen.add(key)
            item_key = (row[_CT], row[_OBJECT], row[_STAGE], row[_DUE])
            item = work[row[_STEP]].get(item_key)
            if item is None:
                item = work[row[_STEP]][item_key] = UpcomingItem(row[_TITLE], row[_URL], row[_DUE], row[_STAGE])
            item.recipients.append((row[_RECIPIENT], row[_REASON]))
            user_ids.add(row[_RECIPIENT])
        for step in sorted(work, key=lambda s: (list(STEP_LABELS).index(s) if s in STEP_LABELS else 99, s)):
            items = sorted(work[step].values(), key=lambda i: (-i.stage, i.due_on, i.title))
            groups.append(UpcomingGroup(day, step, items))
    names = {
        pk: real_name or username
        for pk, real_name, username in get_user_model().objects.filter(pk__in=user_ids).values_list(
            "pk", "real_name", "username"
        )
    } if user_ids else {}  # fmt: skip
    for group in groups:
        for item in group.items:
            item.names = [names.get(uid, "?") for uid, _reason in item.recipients]
    return groups


def _zone(name) -> str:
    return "北京时间" if str(name) in ("Asia/Shanghai", "Asia/Chongqing", "PRC") else str(name)
