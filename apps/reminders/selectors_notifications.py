"""Reads of the notification centre: a person's own daily digests, the unread count, the channels.

Notifications are personal: every read starts from ``recipient=user`` — nobody, whatever the role,
reads another person's notifications here (finance's view of what was sent is ``reminder.view``
on the reminders pages). Another person's id is therefore simply not found (404).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.http import url_has_allowed_host_and_scheme

from apps.core.templatetags.qd import cn_date

from .models import ChannelPreference, Notification, Reminder, stage_label

PAGE_SIZE = 20
# Items shown per notification in the list (page and API): a district finance user's digest can
# hold thousands; the rest are on the notification's own page (``notification_items``).
ITEMS_SHOWN = 20
ITEMS_PAGE_SIZE = 100


def _items() -> QuerySet[Reminder]:
    return Reminder.objects.select_related("organization").order_by("due_on", "pk")


def _count(**filters) -> Coalesce:
    """How many reminders the notification holds (matching ``filters``): a subquery per row, which
    PostgreSQL evaluates only for the page's rows (after ORDER BY … LIMIT), not a join and GROUP BY
    over every reminder a person ever had."""
    rows = (
        Reminder.objects.filter(notification=OuterRef("pk"), **filters)
        .order_by()
        .values("notification")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows), 0)


def notification_list(user, *, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's own daily digests, newest first, each with its first ``ITEMS_SHOWN`` reminders
    (earliest due first, in ``first_items``) and the counts of all of them (``item_count``, ``overdue_count``: due
    before the notification's day)."""
    queryset = (
        Notification.objects.filter(recipient=user)
        .annotate(item_count=_count(), overdue_count=_count(due_on__lt=OuterRef("day")))
        .prefetch_related(Prefetch("items", queryset=_items()[:ITEMS_SHOWN], to_attr="first_items"))
    )
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    return queryset.order_by("-day", "-pk")


def notification_items(notification: Notification) -> QuerySet[Reminder]:
    """Every reminder of one notification, earliest due first (its page and ``items/`` in the API).
    Through the related manager: each item knows its notification without a query."""
    return notification.items.select_related("organization").order_by("due_on", "pk")


def unread_count(user) -> int:
    """One query (the partial index ``notification_unread_idx`` serves it)."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def safe_link(url: str | None) -> str:
    """``url`` when it is a path on this site, else "" (a source writes it; never an outside link):
    every page, API and e-mail that links to a record goes through this."""
    url = url or ""
    return url if url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None) else ""


def item_link(item: Reminder) -> str:
    """The record's page, when it is a path on this site."""
    return safe_link(item.url)


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


def item_rows(items) -> list[ItemRow]:
    """What the templates show of each item (no further queries: ``item.notification`` is the
    prefetching or filtering notification)."""
    return [ItemRow(i, item_link(i), escalation_note(i), stage_text(i), stage_style(i)) for i in items]


@dataclass(frozen=True)
class DigestRow:
    notification: Notification
    title: str
    items: list[ItemRow]  # the first ``ITEMS_SHOWN``
    item_count: int  # all of them
    overdue_count: int

    @property
    def more(self) -> int:
        return max(self.item_count - len(self.items), 0)


def digest_rows(notifications) -> list[DigestRow]:
    """The page's notifications (from ``notification_list``) with what the template shows."""
    return [
        DigestRow(
            notification=n,
            title=digest_title(n),
            items=item_rows(n.first_items),
            item_count=n.item_count,
            overdue_count=n.overdue_count,
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
