"""Download, upload and delete attachments. Thin: permission on the parent record, then the service.

Whoever may not see the parent record gets 404 (the attachment's existence is not revealed);
whoever may see it but not change it gets 403 on upload and delete.
"""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from apps.core import permissions

from . import selectors, services
from .forms import AttachmentUploadForm
from .models import Attachment

logger = logging.getLogger(__name__)

NOT_FOUND = "附件不存在或不在您的查看范围内。"


def visible_attachment(user, pk: int):
    """The attachment and its parent record, or 404 unless the user may view that record."""
    attachment = Attachment.objects.filter(pk=pk).first()
    parent = selectors.parent_of(attachment) if attachment is not None else None
    if parent is None or not permissions.can(user, attachment.view_action, parent):
        raise Http404(NOT_FOUND)
    return attachment, parent


def _visible(request, pk: int):
    return visible_attachment(request.user, pk)


def file_response(attachment: Attachment) -> FileResponse:
    """The file as a download (page and API alike)."""
    storage = attachment.file.storage
    try:
        handle = storage.open(attachment.file.name, "rb")
    except FileNotFoundError:
        logger.error("attachment %s: file %s missing from storage", attachment.pk, attachment.file.name)
        raise Http404("附件文件已丢失，请联系系统管理员。") from None
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.mime_type
    )
    # Never rendered by the browser in our origin: downloaded, not sniffed, and sandboxed if opened.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


def _next_url(request) -> str:
    for candidate in (request.POST.get("next"), request.headers.get("referer")):
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return candidate
    return "/"


def _respond(request, obj, *, errors=(), success: str = ""):
    """htmx: the refreshed attachment panel; otherwise back to the record page with a message."""
    next_url = _next_url(request)
    if getattr(request, "htmx", False):
        context = {"obj": obj, "attachment_errors": list(errors), "attachment_next": next_url}
        return render(request, "attachments/partials/list.html", context, status=400 if errors else 200)
    for error in errors:
        messages.error(request, error)
    if success:
        messages.success(request, success)
    return redirect(next_url)


@login_required
@require_GET
def attachment_download(request, pk: int):
    attachment, _parent = _visible(request, pk)
    return file_response(attachment)


@login_required
@require_POST
def attachment_upload(request, ct: int, object_id: str):
    found = selectors.registered_record(ct, object_id)
    if found is None or not permissions.can(request.user, found[0].view, found[1]):
        raise Http404("记录不存在或不在您的查看范围内。")
    entry, obj = found
    form = AttachmentUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _respond(request, obj, errors=[e for errors in form.errors.values() for e in errors])
    try:
        attachment = services.attachment_add(
            actor=request.user,
            obj=obj,
            file=form.cleaned_data["file"],
            view_action=entry.view,  # from the registry, never from the request
            edit_action=entry.edit_action(obj),
            description=form.cleaned_data["description"],
        )
    except ValidationError as exc:
        return _respond(request, obj, errors=exc.messages)
    return _respond(request, obj, success=f"已上传附件“{attachment.original_name}”。")


@login_required
@require_POST
def attachment_delete(request, pk: int):
    attachment, parent = _visible(request, pk)
    try:
        services.attachment_delete(actor=request.user, attachment=attachment)
    except ValidationError as exc:
        return _respond(request, parent, errors=exc.messages)
    return _respond(request, parent, success=f"已删除附件“{attachment.original_name}”。")
