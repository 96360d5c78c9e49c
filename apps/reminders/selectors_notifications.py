"""Reads of the notification centre: a person's own daily digests, the unread count, the channels.

Notifications are personal: every read starts from ``recipient=user`` — nobody, whatever the role,
reads another person's notifications here (finance's view of what was sent is ``reminder.view``
on the reminders pages). Another person's id is therefore simply not found (404).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.utils.http import url_has_allowed_host_and_scheme

from apps.core.templatetags.qd import cn_date

from .models import ChannelPreference, Notification, Reminder, stage_label

PAGE_SIZE = 20


def notification_list(user, *, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's own daily digests, newest first, each with its reminders (earliest due first)."""
    items = Reminder.objects.select_related("organization").order_by("due_on", "pk")
    queryset = Notification.objects.filter(recipient=user).prefetch_related(Prefetch("items", queryset=items))
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    return queryset.order_by("-day", "-pk")


def unread_count(user) -> int:
    """One query (the partial index ``notification_unread_idx`` serves it)."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def item_link(item: Reminder) -> str:
    """The record's page, when it is a path on this site (a source writes it; never an outside link)."""
    url = item.url or ""
    return url if url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None) else ""


def escalation_note(item: Reminder) -> str:
    """Why a department approver or finance reviewer hears of someone else's overdue work."""
    if item.reason == Reminder.Reason.ACTOR:
        return ""
    return f"升级提醒：{item.organization.name}逾期未办"


def days_from_due(item: Reminder) -> int:
    """How far the due date was from the day of the digest the item is in (−3: due in 3 days; 2:
    2 days overdue). Usually the reminder's stage; when a sweep missed days, the stage reached is
    older than the digest (stage −7 first sent when 5 days remain), and the person is told the truth as of
    that day. ``item.notification`` is the prefetching digest itself: no query."""
    if item.notification_id is None:
        return item.stage
    return (item.notification.day - item.due_on).days


def stage_text(item: Reminder) -> str:
    """还有3天到期 / 今天到期 / 已逾期2天, as of the digest's day."""
    return stage_label(days_from_due(item))


def stage_style(item: Reminder) -> str:
    """Bootstrap badge class: red once overdue, amber on the day, blue before."""
    days = days_from_due(item)
    if days > 0:
        return "text-bg-danger"
    return "text-bg-warning" if days == 0 else "text-bg-info"


def digest_title(notification: Notification) -> str:
    return f"{cn_date(notification.day)} 催办提醒"


@dataclass(frozen=True)
class ItemRow:
    item: Reminder
    link: str
    note: str
    stage: str
    style: str

    @property
    def overdue(self) -> bool:
        return self.style == "text-bg-danger"


@dataclass(frozen=True)
class DigestRow:
    notification: Notification
    title: str
    items: list[ItemRow]

    @property
    def overdue_count(self) -> int:
        return sum(1 for row in self.items if row.overdue)


def digest_rows(notifications) -> list[DigestRow]:
    """The page's notifications with what the template shows of each item (no further queries)."""
    return [
        DigestRow(
            notification=n,
            title=digest_title(n),
            items=[ItemRow(i, item_link(i), escalation_note(i), stage_text(i), stage_style(i)) for i in n.items.all()],
        )
        for n in notifications
    ]


@dataclass(frozen=True)
class Channels:
    """A person's channels as the profile and the API show them."""

    email: bool
    address: str

    in_app = True  # cannot be turned off

    @property
    def email_possible(self) -> bool:
        return bool(self.address)


def channels_of(user) -> Channels:
    preference = ChannelPreference.objects.filter(user=user).only("email").first()
    return Channels(email=preference.email if preference else True, address=user.email or "")


def own_notification(user, pk: int) -> QuerySet[Notification]:
    """The user's notification ``pk`` (empty for anyone else's: the view answers 404)."""
    return Notification.objects.filter(recipient=user, pk=pk)
