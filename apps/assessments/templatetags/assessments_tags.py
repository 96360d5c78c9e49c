"""Template helpers for pages of other apps that show assessments (the fund page's 事前评估 tab)."""

from django import template

from apps.core import permissions

from ..models import ExAnteAssessment

register = template.Library()


@register.simple_tag(takes_context=True)
def may_start_assessment(context, fund, assessments) -> bool:
    """May the signed-in user start an assessment of ``fund`` now (role and scope allow it, and
    none of the fund's ``assessments`` is still open)?"""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if user is None or not permissions.can(user, "assessment.edit", fund):
        return False
    return all(a.status == ExAnteAssessment.Status.COMPLETED for a in assessments)
