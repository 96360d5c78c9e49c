from django.contrib import admin

from .models import Attachment


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    """Read-only: files are added and removed through the audited services only."""

    list_display = ["original_name", "content_type", "object_id", "organization", "size", "uploaded_by", "uploaded_at"]
    list_select_related = ["content_type", "organization", "uploaded_by"]
    search_fields = ["original_name", "sha256"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
