"""Writes on attachments: add and delete. Permission-checked on the parent record, transactional, audited."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model

from apps.core import audit, permissions

from . import files, registry, selectors
from .models import Attachment

MAX_DESCRIPTION = 200


def _lock(obj: Model) -> Model:
    """The parent row, locked: a status change cannot slip in between the check and the write."""
    return type(obj)._default_manager.select_for_update().get(pk=obj.pk)


def _check_editable(obj: Model) -> None:
    if not registry.is_editable(obj):
        status = obj.get_status_display() if hasattr(obj, "get_status_display") else ""
        state = f"当前状态为“{status}”，" if status else ""
        raise ValidationError(f"该记录{state}不能再上传或删除附件。", code="not_editable")


def attachment_add(*, actor, obj: Model, file, view_action: str, edit_action: str, description: str = "") -> Attachment:
    """Attach ``file`` to ``obj``. Checks ``edit_action`` on ``obj``; the file's name, type, content and size.

    Nothing is written (database or disk) unless every check passes; if the database write fails
    after the file was stored, the file is removed again.
    """
    permissions.get_action(view_action)  # unknown codes are a programming error: fail loudly
    permissions.get_action(edit_action)
    if not permissions.can(actor, edit_action, obj):
        raise PermissionDenied("您无权为该记录上传附件。")
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise ValidationError(f"附件说明不能超过 {MAX_DESCRIPTION} 个字。", code="description")
    checked = files.check_file(file)

    stored_name = ""
    storage = Attachment._meta.get_field("file").storage
    done = False
    try:
        with transaction.atomic():
            parent = _lock(obj)
            _check_editable(parent)
            owner = permissions.owner_of(parent)
            if owner is None:
                raise ValidationError("该记录没有所属机构，不能上传附件。", code="no_owner")
            same = selectors.attachments_for(parent).filter(sha256=checked.sha256).first()
            if same is not None:
                raise ValidationError(
                    f"文件“{checked.name}”与已上传的附件“{same.original_name}”内容相同，无需重复上传。",
                    code="duplicate",
                )
            attachment = Attachment(
                content_type=ContentType.objects.get_for_model(parent),
                object_id=str(parent.pk),
                organization=owner,
                view_action=view_action,
                edit_action=edit_action,
                original_name=checked.name,
                mime_type=checked.mime_type,
                size=checked.size,
                sha256=checked.sha256,
                description=description,
                uploaded_by=actor,
            )
            file.seek(0)
            attachment.file.save(checked.name, file, save=False)  # random dated path, see upload_to
            stored_name = attachment.file.name
            attachment.full_clean()
            attachment.save()
            audit.record(
                audit.Kind.CREATE,
                actor=actor,
                obj=parent,
                organization=owner,
                changes={"附件": {"from": None, "to": checked.name}},
                comment=f"上传附件“{checked.name}”（{files.human_size(checked.size)}，SHA-256：{checked.sha256}）",
            )
        done = True
    finally:
        if stored_name and not done:
            storage.delete(stored_name)
    return attachment


def attachment_delete(*, actor, attachment: Attachment) -> None:
    """Remove an attachment (``edit_action`` on its parent, while the parent is editable); audited.

    The file leaves the disk only once the transaction has committed.
    """
    with transaction.atomic():
        attachment = Attachment.objects.select_for_update().filter(pk=attachment.pk).first()
        if attachment is None:
            raise ValidationError("该附件已被删除。", code="gone")
        parent = selectors.parent_of(attachment)
        if parent is None or not permissions.can(actor, attachment.edit_action, parent):
            raise PermissionDenied("您无权删除该附件。")
        parent = _lock(parent)
        _check_editable(parent)
        stored_name, name = attachment.file.name, attachment.original_name
        storage = attachment.file.storage
        attachment.delete()
        audit.record(
            audit.Kind.UPDATE,
            actor=actor,
            obj=parent,
            changes={"附件": {"from": name, "to": None}},
            comment=f"删除附件“{name}”（SHA-256：{attachment.sha256}）",
        )
        transaction.on_commit(lambda: storage.delete(stored_name))
