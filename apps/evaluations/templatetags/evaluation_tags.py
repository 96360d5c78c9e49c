"""Badges and numbers of evaluation pages: ``{% grade_badge code %}``, ``{% selfeval_status_badge code %}``,
``{{ value|score }}`` (two decimals, "—" when there is none)."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils.html import format_html

from ..models import Grade, SelfEvaluation

register = template.Library()

GRADE_CLASSES = {
    Grade.EXCELLENT: "text-bg-success",
    Grade.GOOD: "text-bg-primary",
    Grade.FAIR: "text-bg-warning",
    Grade.POOR: "text-bg-danger",
}
STATUS_CLASSES = {
    SelfEvaluation.Status.DRAFT: "text-bg-light border",
    SelfEvaluation.Status.DEPT_REVIEW: "text-bg-info",
    SelfEvaluation.Status.SUBMITTED: "text-bg-primary",
    SelfEvaluation.Status.CONFIRMED: "text-bg-success",
    SelfEvaluation.Status.RETURNED: "text-bg-danger",
}


@register.simple_tag
def grade_badge(grade: str, extra: str = "") -> str:
    """优/良/中/差 as a coloured badge; an ungraded evaluation shows a grey “未评分”."""
    if not grade:
        return format_html('<span class="badge text-bg-light border grade-badge {}">未评分</span>', extra)
    label = dict(Grade.choices).get(grade, grade)
    css = GRADE_CLASSES.get(grade, "text-bg-secondary")
    return format_html('<span class="badge {} grade-badge {}" data-grade="{}">{}</span>', css, extra, grade, label)


@register.simple_tag
def selfeval_status_badge(status: str) -> str:
    label = dict(SelfEvaluation.Status.choices).get(status, status)
    css = STATUS_CLASSES.get(status, "text-bg-secondary")
    return format_html('<span class="badge {} status-badge" data-status="{}">{}</span>', css, status, label)


@register.filter
def score(value) -> str:
    """A score or points with two decimals (half up), "—" for none."""
    if value in (None, ""):
        return "—"
    try:
        return f"{Decimal(value).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):f}"
    except (InvalidOperation, TypeError, ValueError):
        return "—"


@register.filter
def plain(value) -> str:
    """A typed number as typed: no exponent, no trailing zeros (28.2000 → 28.2), "" for none."""
    if value in (None, ""):
        return ""
    try:
        return f"{Decimal(value).normalize():f}"
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
