"""Logins, failed logins, lock-outs and logouts go to the audit trail."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from apps.core import audit

from .models import User


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    audit.record(audit.Kind.LOGIN, actor=user, organization=user.organization)


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit.record(audit.Kind.LOGOUT, actor=user, organization=user.organization)


def _known_user(username: str) -> User | None:
    return User.objects.select_related("organization").filter(username=username).first() if username else None


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs):
    username = (credentials or {}).get("username", "")[:150]
    user = _known_user(username)
    audit.record(
        audit.Kind.LOGIN_FAILED,
        actor_name=username,
        organization=user.organization if user else None,
        comment="" if user else "账号不存在",
    )


@receiver(user_locked_out)
def audit_lockout(sender, request, username, ip_address, **kwargs):
    user = _known_user(username or "")
    audit.record(audit.Kind.LOCKOUT, actor_name=username or "", organization=user.organization if user else None)
