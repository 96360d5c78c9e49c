"""Evidence files (证明材料) attached to any business record.

The file lives under ``MEDIA_ROOT`` (outside the web root) at a dated, random path; it is only ever
served by the permission-checked download view. The user's file name is kept as data, never used
as a path.
"""

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from apps.core.scoping import ScopedQuerySet


def attachment_upload_to(instance: "Attachment", filename: str) -> str:
    """``attachments/2026/11/<uuid4 hex>.pdf``: the extension is the validated one, the rest is random."""
    now = timezone.localtime()
    return f"attachments/{now:%Y/%m}/{uuid.uuid4().hex}{instance.extension}"


class AttachmentQuerySet(ScopedQuerySet):
    def for_object(self, obj: models.Model) -> "AttachmentQuerySet":
        return self.filter(content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk))


class Attachment(models.Model):
    # The record the file is evidence for (a target, a monitoring report, a self-evaluation …).
    content_type = models.ForeignKey(ContentType, verbose_name="记录类型", on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField("记录编号", max_length=64)
    parent = GenericForeignKey("content_type", "object_id")
    # The record's owner when the file was added: scoping of attachment lists and the audit trail.
    organization = models.ForeignKey(
        "orgs.Organization", verbose_name="所属机构", on_delete=models.PROTECT, related_name="+"
    )
    # The actions checked on the parent record (from the registry, never from the request).
    view_action = models.CharField("查看权限", max_length=64)
    edit_action = models.CharField("修改权限", max_length=64)

    original_name = models.CharField("文件名", max_length=255)
    file = models.FileField("文件", upload_to=attachment_upload_to, max_length=255)
    mime_type = models.CharField("文件类型", max_length=100)
    size = models.PositiveBigIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    description = models.CharField("说明", max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)

    scope_path = "organization"

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "证明材料附件"
        ordering = ["uploaded_at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="attachment_parent_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(size__gt=0), name="attachment_size_positive"),
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def extension(self) -> str:
        """The lower-case extension of the original name, with its dot (``".pdf"``)."""
        dot = self.original_name.rfind(".")
        return self.original_name[dot:].lower() if dot > 0 else ""
