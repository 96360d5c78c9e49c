"""API building blocks: scoped read-only viewsets and Chinese error responses."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, serializers, viewsets
from rest_framework.permissions import BasePermission
from rest_framework.views import exception_handler as drf_exception_handler

from . import permissions
from .models import AuditEvent


def exception_handler(exc, context):
    """Services raise Django's errors; the API turns them into 400/403 with the same messages."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or "您无权执行此操作。")
    return drf_exception_handler(exc, context)


class HasScopeAction(BasePermission):
    """403 unless the user's roles grant the viewset's ``scope_action``."""

    message = "您的角色无权使用此接口。"

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated) and permissions.has_action(
            request.user, view.scope_action
        )


class ScopedViewSetMixin:
    """``get_queryset`` starts from ``restrict(user, scope_action)``: out-of-scope rows are 404."""

    scope_action: str = ""
    permission_classes = [HasScopeAction]

    def get_queryset(self):
        queryset = self.queryset.model.objects.restrict(self.request.user, self.scope_action)
        return self.optimize(queryset)

    def optimize(self, queryset):
        return queryset


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class AuditEventSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True, default=None)
    object_type = serializers.CharField(source="content_type.model", read_only=True, default=None)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "occurred_at",
            "actor",
            "actor_name",
            "kind",
            "kind_display",
            "organization",
            "organization_name",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
            "comment",
            "ip",
        ]
        read_only_fields = fields


class AuditEventViewSet(ScopedReadOnlyViewSet):
    """The audit trail, read-only: there is no endpoint that edits or deletes an audit row."""

    queryset = AuditEvent.objects.all()
    serializer_class = AuditEventSerializer
    scope_action = "audit.view"
    filterset_fields = ["kind", "actor", "organization"]
    search_fields = ["actor_name", "object_repr", "comment"]
    ordering_fields = ["occurred_at"]

    def optimize(self, queryset):
        return queryset.select_related("organization", "content_type")
