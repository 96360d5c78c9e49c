"""`{% linkage_panel fund %}`: the last grade(s), the suggestion and the suggested amount of a fund
(and finance's decision once arranged), on the fund page's 预算关口 card (``compact=True``) and
its 结果应用 tab. Needs ``linkage.view`` on the fund; a constant number of queries."""

from django import template
from django.template.loader import render_to_string

from apps.core import permissions
from apps.funds.models import SpecialFund

from .. import selectors_linkage as sel
from ..services_linkage import may_manage_rules

register = template.Library()


@register.simple_tag(takes_context=True)
def linkage_panel(context, record, compact=False):
    if not isinstance(record, SpecialFund):
        return ""
    user = context.get("user") or getattr(context.get("request"), "user", None)
    if user is None or not permissions.can(user, "linkage.view", record):
        return ""
    linkage = sel.cached_linkage(record)
    return render_to_string(
        "results/partials/linkage_panel.html",
        {
            "fund": record,
            "linkage": linkage,
            "decision": sel.decision_of(record),
            "compact": compact,
            "manage_rules": may_manage_rules(user),
        },
        request=context.get("request"),
    )
