from datetime import datetime, time

from django.db.models import Q
from django.utils import timezone

from .models import AuditEvent


def audit_event_list(*, user, q: str = "", kind: str = "", date_from=None, date_to=None):
    events = AuditEvent.objects.restrict(user, "audit.view").select_related("organization", "content_type")
    if q:
        events = events.filter(
            Q(actor_name__icontains=q)
            | Q(object_repr__icontains=q)
            | Q(comment__icontains=q)
            | Q(organization__name__icontains=q)
        )
    if kind:
        events = events.filter(kind=kind)
    tz = timezone.get_current_timezone()
    if date_from:
        events = events.filter(occurred_at__gte=datetime.combine(date_from, time.min, tzinfo=tz))
    if date_to:
        events = events.filter(occurred_at__lte=datetime.combine(date_to, time.max, tzinfo=tz))
    return events
