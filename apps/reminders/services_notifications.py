"""Writes of the notification centre: mark read, mark all read, choose channels.

Marking read is one conditional ``UPDATE … WHERE read_at IS NULL`` of the person's own rows: a
double submit (or two tabs) changes nothing the second time, and another person's notification
is not touched. Read state is the person's own inbox state, not business data: it is kept on the
row (``read_at``) and not written to the audit trail. The choice of channels is audited.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from apps.core import audit

from .models import ChannelPreference, Notification


def notification_mark_read(*, actor, notification: Notification) -> bool:
    """Mark one of ``actor``'s notifications read. Returns whether it was unread."""
    changed = Notification.objects.filter(pk=notification.pk, recipient=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return bool(changed)


def notification_mark_all_read(*, actor) -> int:
    """Mark every unread notification of ``actor`` read. Returns how many were unread."""
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(read_at=timezone.now())


def _on_off(value: bool) -> str:
    return "开启" if value else "关闭"


@transaction.atomic
def channels_update(*, actor, email: bool) -> ChannelPreference:
    """Turn e-mail reminders on or off for ``actor`` (in-app notifications are always on)."""
    preference, _ = ChannelPreference.objects.select_for_update().get_or_create(user=actor)
    if preference.email == email:
        return preference
    before = preference.email
    preference.email = email
    preference.save(update_fields=["email", "updated_at"])
    audit.record(
        audit.Kind.UPDATE,
        actor=actor,
        obj=preference,
        changes={"email": {"from": before, "to": email}},
        comment=f"修改提醒渠道：邮件提醒 {_on_off(before)} → {_on_off(email)}",
    )
    return preference
