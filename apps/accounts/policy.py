"""Hooks that let django-axes read the security policy instead of fixed settings."""

from datetime import timedelta

from .models import SecurityPolicy


def axes_failure_limit(request, credentials) -> int:
    return SecurityPolicy.current().lockout_attempts


def axes_cooloff_time(request) -> timedelta:
    return timedelta(minutes=SecurityPolicy.current().lockout_minutes)
