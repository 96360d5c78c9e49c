"""Deadline reminders (催办提醒) and the notification centre.

* ``ReminderRule`` — per region: remind N days before, on the due day, escalate after it is missed.
* ``Reminder`` — one piece of open work × recipient × stage × due date. Its unique key is the
  exactly-once guarantee: two sweeps running at once (or a retried sweep) insert the same key and
  the database keeps one.
* ``Notification`` — the in-app daily digest of one person (the bell); ``EmailDigest`` — the
  e-mail daily digest of one person, with its sending state. A reminder joins one of each.
* ``ChannelPreference`` — a person's choice of channels (in-app cannot be turned off).
* ``SweepRun`` — what each sweep did (the log finance reads).
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models

from apps.core.scoping import ScopedQuerySet

DEFAULT_DAYS_BEFORE = "7,3,1"


def parse_days(text: str) -> list[int]:
    """'7,3,1' → [7, 3, 1] (descending, unique); raises ValidationError in Chinese."""
    text = (text or "").replace("，", ",").replace(" ", "")
    if not text:
        return []
    days: set[int] = set()
    for part in text.split(","):
        if not (part.isascii() and part.isdigit()) or not 1 <= int(part) <= 60:
            raise ValidationError(f"提前提醒天数“{part}”无效：请填写 1–60 之间的整数，用逗号分隔，如 7,3,1。")
        days.add(int(part))
    return sorted(days, reverse=True)


def validate_days(text: str) -> None:
    parse_days(text)


class ReminderRule(models.Model):
    """How one region reminds. A region without a row uses the defaults (``ReminderRule.default``)."""

    organization = models.OneToOneField(
        "orgs.Organization", verbose_name="财政部门", on_delete=models.PROTECT, related_name="reminder_rule"
    )
    enabled = models.BooleanField("启用催办提醒", default=True)
    days_before = models.CharField(
        "提前提醒天数", max_length=40, default=DEFAULT_DAYS_BEFORE, validators=[validate_days],
        help_text="到期前多少天提醒，逗号分隔，如 7,3,1",
    )  # fmt: skip
    on_due_day = models.BooleanField("到期当日提醒", default=True)
    escalate_department_after = models.PositiveSmallIntegerField(
        "逾期多少天后提醒部门审核人", default=1, help_text="0 表示不升级到部门"
    )
    escalate_finance_after = models.PositiveSmallIntegerField(
        "逾期多少天后提醒财政审核人", default=3, help_text="0 表示不升级到财政"
    )
    stop_after = models.PositiveSmallIntegerField(
        "逾期多少天后不再提醒", default=30, help_text="更久的逾期事项只在逾期清单中显示，不再发送提醒"
    )
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "提醒规则"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(escalate_finance_after=0)
                | models.Q(escalate_department_after=0)
                | models.Q(escalate_finance_after__gt=models.F("escalate_department_after")),
                name="reminder_rule_finance_after_department",
                violation_error_message="升级到财政的天数应大于升级到部门的天数。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} 提醒规则"

    @classmethod
    def default(cls, organization=None) -> "ReminderRule":
        return cls(organization=organization)

    @property
    def days_before_list(self) -> list[int]:
        return parse_days(self.days_before)

    def clean(self) -> None:
        super().clean()
        if self.stop_after and self.stop_after < max(self.escalate_finance_after, self.escalate_department_after):
            raise ValidationError({"stop_after": "停止提醒的天数不能早于升级提醒的天数。"})


class ChannelPreference(models.Model):
    """A person's channels. In-app notifications are always on; e-mail is the choice."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, related_name="channel_preference"
    )
    email = models.BooleanField("接收邮件提醒", default=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "提醒渠道"

    def __str__(self) -> str:
        return f"{self.user} 提醒渠道"


class Notification(models.Model):
    """The in-app daily digest of one person: one per person and day, listing that day's reminders."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="接收人", on_delete=models.CASCADE, related_name="notifications"
    )
    day = models.DateField("日期")
    created_at = models.DateTimeField("生成时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_path = "recipient__organization"  # finance's view: the recipients of its region

    class Meta:
        verbose_name = verbose_name_plural = "站内通知"
        ordering = ["-day", "-pk"]
        constraints = [models.UniqueConstraint(fields=["recipient", "day"], name="notification_one_per_day")]
        indexes = [
            models.Index(
                fields=["recipient"], condition=models.Q(read_at__isnull=True), name="notification_unread_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} {self.day} 催办提醒"


class EmailDigest(models.Model):
    """The e-mail daily digest of one person, with its sending state (pending → sending → sent/failed;
    skipped when the person has no address or turned e-mail off)."""

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        SENDING = "sending", "发送中"
        SENT = "sent", "已发送"
        RETRYING = "retrying", "重试中"
        FAILED = "failed", "发送失败"
        SKIPPED = "skipped", "未发送"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="接收人", on_delete=models.CASCADE, related_name="email_digests"
    )
    day = models.DateField("日期")
    address = models.CharField("邮箱地址", max_length=254, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    skip_reason = models.CharField("未发送原因", max_length=100, blank=True)
    attempts = models.PositiveSmallIntegerField("发送次数", default=0)
    last_error = models.TextField("最近错误", blank=True)
    claimed_at = models.DateTimeField("开始发送时间", null=True, blank=True)
    next_attempt_at = models.DateTimeField("下次重试时间", null=True, blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    created_at = models.DateTimeField("生成时间", auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path = "recipient__organization"  # finance's view: the recipients of its region

    class Meta:
        verbose_name = verbose_name_plural = "邮件提醒"
        ordering = ["-day", "-pk"]
        constraints = [models.UniqueConstraint(fields=["recipient", "day"], name="email_digest_one_per_day")]
        indexes = [models.Index(fields=["status", "day"], name="email_digest_status_idx")]

    def __str__(self) -> str:
        return f"{self.recipient} {self.day} 邮件提醒"


class ReminderQuerySet(ScopedQuerySet):
    pass


class Reminder(models.Model):
    """One reminder: this record's step is due on ``due_on``; ``recipient`` hears of it at ``stage``.

    ``stage`` is the offset in days from the due date that triggered it (−7, −3, −1 before; 0 on the
    day; +1, +3 after, when the work escalates). The unique key makes each one go out once."""

    class Reason(models.TextChoices):
        ACTOR = "actor", "经办"
        DEPARTMENT = "department", "升级至部门"
        FINANCE = "finance", "升级至财政"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="接收人", on_delete=models.CASCADE, related_name="reminders"
    )
    # No single-column indexes on content_type and region: the unique key and reminder_region_idx
    # start with them, and every index costs the sweep's bulk insert.
    content_type = models.ForeignKey(ContentType, verbose_name="业务类型", on_delete=models.PROTECT, db_index=False)
    object_id = models.PositiveBigIntegerField("业务记录")
    step = models.CharField("业务环节", max_length=40)
    stage = models.SmallIntegerField("提醒节点")
    due_on = models.DateField("截止日期")
    reason = models.CharField("提醒原因", max_length=12, choices=Reason.choices, default=Reason.ACTOR)
    title = models.CharField("事项", max_length=200)
    url = models.CharField("链接", max_length=200)
    # A 涉密 fund's item: its title stays in the system; e-mail (outside the network) says only that
    # there is classified work to do.
    classified = models.BooleanField("涉密", default=False, db_default=False)
    # The record's owner and region: finance's view of reminders is scoped through them.
    organization = models.ForeignKey(
        "orgs.Organization", verbose_name="责任单位", on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey(
        "orgs.Region", verbose_name="区域", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    created_at = models.DateTimeField("生成时间", auto_now_add=True)
    notification = models.ForeignKey(
        Notification, verbose_name="站内通知", null=True, blank=True, on_delete=models.SET_NULL, related_name="items"
    )
    email_digest = models.ForeignKey(
        EmailDigest, verbose_name="邮件", null=True, blank=True, on_delete=models.SET_NULL, related_name="items"
    )

    objects = ReminderQuerySet.as_manager()
    region_field = "region"

    class Meta:
        verbose_name = verbose_name_plural = "催办提醒"
        ordering = ["-created_at", "due_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "step", "recipient", "stage", "due_on"],
                name="reminder_exactly_once",
            ),
        ]
        indexes = [
            models.Index(
                fields=["recipient"], condition=models.Q(notification__isnull=True), name="reminder_undigested"
            ),
            models.Index(fields=["recipient"], condition=models.Q(email_digest__isnull=True), name="reminder_unmailed"),
            models.Index(fields=["region", "-created_at"], name="reminder_region_idx"),
            models.Index(fields=["due_on"], name="reminder_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title}（{self.stage_label}）"

    @property
    def stage_label(self) -> str:
        return stage_label(self.stage)

    @property
    def overdue(self) -> bool:
        return self.stage > 0


def stage_label(stage: int) -> str:
    if stage < 0:
        return f"还有{-stage}天到期"
    if stage == 0:
        return "今天到期"
    return f"已逾期{stage}天"


class SweepRun(models.Model):
    """What one sweep did (the log on the finance page; the same figures go to the worker's log)."""

    day = models.DateField("提醒日期")
    started_at = models.DateTimeField("开始时间", auto_now_add=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    open_items = models.PositiveIntegerField("待办事项", default=0)
    reminders_created = models.PositiveIntegerField("新提醒", default=0)
    notifications = models.PositiveIntegerField("站内通知", default=0)
    emails_queued = models.PositiveIntegerField("待发邮件", default=0)
    error = models.TextField("错误", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "提醒扫描记录"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.day} 提醒扫描"

    @property
    def seconds(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None

    @property
    def abandoned(self) -> bool:
        """Unfinished after half an hour: the process died (a sweep takes seconds to a minute)."""
        from datetime import timedelta

        from django.utils import timezone

        return self.finished_at is None and timezone.now() - self.started_at > timedelta(minutes=30)
