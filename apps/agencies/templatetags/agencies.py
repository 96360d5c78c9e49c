"""Links into the agency part from other parts' pages (they need no view change)."""

from django import template

from apps.agencies import jobs

register = template.Library()


@register.simple_tag
def assign_url(user, job) -> str:
    """The assignment page of ``job`` (key evaluation or ex-ante assessment) when ``user`` may
    entrust an agency or assign experts to it now (finance, job not completed); '' otherwise."""
    kind = jobs.kind_of(job)
    return kind.url("assign", job.pk) if kind.may_assign(user, job) else ""
