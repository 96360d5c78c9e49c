"""``{% attachments_for obj as files %}`` and friends: what the attachment panel needs from ``obj`` and the user."""

from django import template
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from apps.core import permissions

from .. import files, registry, selectors

register = template.Library()


def _user(context):
    user = context.get("user")
    if user is None and context.get("request") is not None:
        user = context["request"].user
    return user


@register.simple_tag(takes_context=True)
def attachments_for(context, obj):
    """The attachments of ``obj`` the current user may download, each with ``may_delete``."""
    return selectors.visible_attachments(_user(context), obj)


@register.simple_tag(takes_context=True)
def attachment_upload(context, obj):
    """The upload form's data if the current user may attach files to ``obj`` now, else ``None``."""
    entry = registry.entry_for(obj)
    user = _user(context)
    if (
        entry is None
        or user is None
        or not permissions.can(user, entry.edit_action(obj), obj)
        or not registry.is_editable(obj)
    ):
        return None
    content_type = ContentType.objects.get_for_model(obj)
    return {
        "url": reverse("attachments:upload", args=[content_type.pk, obj.pk]),
        "accept": files.ACCEPT,
        "allowed": files.ALLOWED_TEXT,
        "max_size": files.human_size(files.max_bytes()),
    }


@register.filter
def attachment_size(size) -> str:
    """Bytes → ``"12.3 KB"`` / ``"4.5 MB"``."""
    return files.human_size(size)


@register.filter
def attachment_dom_id(obj) -> str:
    """A stable element id for the panel of ``obj`` (the htmx swap target)."""
    return f"attachments-{obj._meta.label_lower.replace('.', '-')}-{obj.pk}"
