"""`{% linkage_panel record %}`: the linkage panel shown on other apps' detail pages (stub).

Renders nothing until the linkage part fills it in; it gets the request user from the context and
must run a constant number of queries.
"""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def linkage_panel(context, record):
    return ""
