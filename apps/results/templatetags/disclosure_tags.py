"""`{% disclosure_panel record %}`: the disclosure panel shown on the target, self-evaluation, key
evaluation and fund detail pages; ``iso_cn_date`` for dates kept in snapshots; ``clause`` and
``{% join_clauses a b %}`` join a reason and a measure without doubled punctuation ("支付。；").

The panel shows the record's disclosures (published / withdrawn) to whoever may see them and, for
finance of the record's region, the publish button (key evaluations: with the report file to
publish). It runs a constant number of queries: one for the disclosures, one more for the report
files of a key evaluation finance may publish.
"""

from datetime import date

from django import template
from django.template.loader import get_template

from apps.attachments.models import Attachment
from apps.core import permissions

from .. import selectors_disclosure as selectors
from .. import services_disclosure as services
from ..models import Disclosure
from ..public_text import clause as _clause
from ..public_text import join_clauses as _join_clauses

register = template.Library()


@register.filter
def iso_cn_date(value) -> str:
    """'2026-01-20' (as kept in a snapshot) → '2026年1月20日'."""
    if not value:
        return ""
    try:
        day = date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{day.year}年{day.month}月{day.day}日"


@register.filter
def clause(value) -> str:
    """A typed sentence without its trailing 。/；/; (for joining it to the next one)."""
    return _clause(value)


@register.simple_tag
def join_clauses(*parts) -> str:
    """'待验收后支付。' + '验收后及时支付' → '待验收后支付；验收后及时支付' (empty parts left out)."""
    return _join_clauses(*parts)


@register.simple_tag(takes_context=True)
def disclosure_panel(context, record):
    request = context.get("request")
    user = getattr(request, "user", None)
    if record is None or user is None or not permissions.has_action(user, "disclosure.view"):
        return ""
    rows = selectors.disclosures_of(user, record)
    data = {"record": record, "rows": rows, "csrf_token": context.get("csrf_token"), "kind": None}
    try:
        kind = services.kind_of(record)
    except ValueError:
        kind = None  # a fund: its disclosures of every kind, published from the records themselves
    if kind is not None:
        data["kind"] = kind
        data["kind_label"] = Disclosure.Kind(kind).label
        if permissions.can(user, services.PUBLISH, record):
            published = {getattr(d, f"{services.RECORDS[kind][1]}_id") for d in rows if d.status == "published"}
            problems = services.problems(kind, record, published_ids=published)
            data["may_publish"] = True
            data["problems"] = problems
            if not problems and kind == Disclosure.Kind.KEY_EVALUATION:
                data["reports"] = list(Attachment.objects.for_object(record).order_by("-uploaded_at", "-pk"))
    return get_template("results/partials/disclosure_panel.html").render(data)
