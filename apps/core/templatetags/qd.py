"""Formatting the way finance documents expect: 万元 with two decimals, dates as 2026年11月25日."""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def wan_yuan(value) -> str:
    """Yuan → 万元, two decimals, thousands separators: 12345678 → '1,234.57'."""
    if value in (None, ""):
        return ""
    try:
        amount = (Decimal(value) / Decimal(10000)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    return f"{amount:,.2f}"


@register.filter
def cn_date(value) -> str:
    """2026-11-25 → '2026年11月25日' (local date for datetimes)."""
    if not value:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    if not isinstance(value, date):
        return str(value)
    return f"{value.year}年{value.month}月{value.day}日"


@register.filter
def cn_datetime(value) -> str:
    """An aware datetime → '2026年11月25日 13:39' (local time)."""
    if not value:
        return ""
    return f"{cn_date(value)} {timezone.localtime(value):%H:%M}"


@register.filter
def audit_changes(changes) -> list[tuple[str, object, object]]:
    """Audit ``changes`` as rows (field, before, after) for display."""
    if not isinstance(changes, dict):
        return []
    return [(name, c.get("from"), c.get("to")) for name, c in changes.items() if isinstance(c, dict)]
