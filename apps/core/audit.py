"""Writing the audit trail: one function, called by services inside their transaction."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model

from . import permissions
from .context import current_ip
from .models import AuditEvent

Kind = AuditEvent.Kind


def _plain(value: Any) -> Any:
    """A JSON-safe, human-readable form of a field value."""
    if isinstance(value, Model):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | list | tuple):
        return sorted(_plain(v) for v in value)
    return value


def snapshot(obj: Model, fields: list[str]) -> dict[str, Any]:
    """Field values of ``obj`` to compare before and after a change."""
    return {name: _plain(getattr(obj, name)) for name in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{field: {"from": old, "to": new}}`` for the fields that changed."""
    return {
        key: {"from": before.get(key), "to": after.get(key)}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def record(
    kind: str,
    *,
    actor=None,
    obj: Model | None = None,
    changes: dict | None = None,
    comment: str = "",
    organization=None,
    actor_name: str = "",
) -> AuditEvent:
    """Append one audit row. The IP comes from the current request, when there is one."""
    if organization is None and obj is not None:
        organization = permissions.owner_of(obj)
    if organization is None and actor is not None:
        organization = getattr(actor, "organization", None)
    return AuditEvent.objects.create(
        kind=kind,
        actor=actor if actor is not None and actor.pk else None,
        actor_name=actor_name or (actor.get_username() if actor is not None else ""),
        organization=organization,
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        changes=changes or {},
        comment=comment,
        ip=current_ip.get(),
    )
