"""`{% rectification_panel record %}`: the 整改 items of a self-evaluation, key evaluation or fund on
that record's detail page (status, deadline, 逾期) and, for the region's finance, the "下达整改" button.
One query for the items (plus none for the button: the permission is decided in Python on the
loaded owner). `{% rectification_status_badge item %}`: the real status plus a red 逾期 badge when overdue."""

from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from apps.core import permissions

from .. import selectors_rectification as selectors
from ..models import Rectification

register = template.Library()

STATUS_CLASSES = {
    Rectification.Status.PENDING: "text-bg-secondary",
    Rectification.Status.IN_PROGRESS: "text-bg-primary",
    Rectification.Status.VERIFYING: "text-bg-info",
    Rectification.Status.DONE: "text-bg-success",
}


@register.simple_tag
def rectification_status_badge(item: Rectification) -> str:
    """The real status, and a red 逾期 badge next to it when the deadline has passed (any open status)."""
    overdue = ""
    if item.is_overdue:
        overdue = format_html(
            ' <span class="badge text-bg-danger overdue-badge">{}</span>', Rectification.OVERDUE_LABEL
        )
    return format_html(
        '<span class="badge {} status-badge" data-status="{}">{}</span>{}',
        STATUS_CLASSES.get(item.status, ""),
        item.status,
        item.get_status_display(),
        overdue,
    )


def _raise_url(user, record) -> str:
    """The "下达整改" link for finance of the record's region, when the record allows it now."""
    from apps.evaluations.models import KeyEvaluation, SelfEvaluation
    from apps.funds.models import SpecialFund

    if not permissions.has_action(user, "rectification.create"):
        return ""
    if isinstance(record, SelfEvaluation):
        owner, url = record.organization, reverse("results:rectification_create_self", args=[record.pk])
        allowed = record.status == SelfEvaluation.Status.CONFIRMED
    elif isinstance(record, KeyEvaluation):
        owner, url = record.department, reverse("results:rectification_create_key", args=[record.pk])
        allowed = record.status == KeyEvaluation.Status.COMPLETED
    elif isinstance(record, SpecialFund):
        query = urlencode({"fund": record.code, "organization": record.organization_id})
        owner, url = record.organization, f"{reverse('results:rectification_create')}?{query}"
        allowed = True
    else:
        return ""
    if not allowed or not permissions.can(user, "rectification.create", Rectification(organization=owner)):
        return ""
    return url


@register.simple_tag(takes_context=True)
def rectification_panel(context, record):
    request = context.get("request")
    user = context.get("user") or getattr(request, "user", None)
    if user is None or not permissions.has_action(user, "rectification.view"):
        return ""
    items = list(selectors.for_record(user, record))
    raise_url = _raise_url(user, record)
    if not items and not raise_url:
        return ""
    return render_to_string("results/partials/rectification_panel.html", {"items": items, "raise_url": raise_url})
