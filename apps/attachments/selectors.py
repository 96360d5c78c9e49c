"""Reads: the attachments of a record, and the record an attachment (or an upload URL) points to."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Model

from apps.core import permissions

from . import registry
from .models import Attachment, AttachmentQuerySet


def attachments_for(obj: Model) -> AttachmentQuerySet:
    """Every attachment of ``obj``, oldest first, with the uploader (one query)."""
    return Attachment.objects.for_object(obj).select_related("uploaded_by")


def visible_attachments(user, obj: Model) -> list[Attachment]:
    """The attachments of ``obj`` that ``user`` may download; each carries ``may_delete``.

    Permissions are decided on the parent record, once per distinct action (in Python, no query).
    """
    decided: dict[str, bool] = {}

    def allowed(action: str) -> bool:
        if action not in decided:
            decided[action] = permissions.can(user, action, obj)
        return decided[action]

    editable = registry.is_editable(obj)
    rows = []
    for attachment in attachments_for(obj):
        if allowed(attachment.view_action):
            attachment.may_delete = editable and allowed(attachment.edit_action)
            rows.append(attachment)
    return rows


def _get(model: type[Model], pk) -> Model | None:
    try:
        return model._default_manager.filter(pk=pk).first()
    except (ValueError, TypeError, ValidationError):  # a pk of the wrong shape
        return None


def parent_of(attachment: Attachment) -> Model | None:
    """The record the attachment belongs to (``None`` if it is gone)."""
    model = ContentType.objects.get_for_id(attachment.content_type_id).model_class()
    return _get(model, attachment.object_id) if model is not None else None


def registered_record(content_type_id: int, object_id: str) -> tuple[registry.Entry, Model] | None:
    """The registration and record an upload URL names; ``None`` unless both exist."""
    try:
        content_type = ContentType.objects.get_for_id(content_type_id)
    except ContentType.DoesNotExist:
        return None
    model = content_type.model_class()
    entry = registry.entry_for(model) if model is not None else None
    if entry is None:
        return None
    obj = _get(model, object_id)
    return (entry, obj) if obj is not None else None
