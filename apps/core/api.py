"""API building blocks: scoped read-only viewsets and Chinese error responses."""

import re

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers, viewsets
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import BasePermission
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from . import permissions
from .models import AuditEvent

NOT_FOUND = "未找到该记录，或不在您的查看范围内。"
INVALID_JSON = "请求内容不是有效的 JSON。"
EMPTY_BODY = "请求内容为空。"
_CJK = re.compile(r"[\u3400-\u9fff]")


def _chinese(text) -> bool:
    return bool(_CJK.search(str(text or "")))


def _no_data(detail) -> bool:
    """DRF's ``{"non_field_errors": ["No data provided"]}`` (a JSON ``null`` body, code ``null``)."""
    if not isinstance(detail, dict) or set(detail) != {api_settings.NON_FIELD_ERRORS_KEY}:
        return False
    errors = detail[api_settings.NON_FIELD_ERRORS_KEY]
    return len(errors) == 1 and getattr(errors[0], "code", None) == "null" and str(errors[0]) == "No data provided"


def exception_handler(exc, context):
    """Services raise Django's errors; the API turns them into 400/403 with the same messages.

    DRF's and Django's own English texts that reach clients are replaced by Chinese ones: a 404
    (``get_object_or_404``'s "No X matches the given query.", "Not found.") — a Chinese 404 message
    of ours is kept —, a JSON parse error, and "No data provided" (a ``null`` body)."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or "您无权执行此操作。")
    elif isinstance(exc, Http404 | exceptions.NotFound):
        message = exc.detail if isinstance(exc, exceptions.NotFound) else (exc.args[0] if exc.args else "")
        generic = not _chinese(message) or str(message) == str(exceptions.NotFound.default_detail)
        exc = exceptions.NotFound(NOT_FOUND if generic else message)
    elif isinstance(exc, exceptions.ParseError) and str(exc.detail).startswith("JSON parse error"):
        exc = exceptions.ParseError(INVALID_JSON)
    elif isinstance(exc, exceptions.ValidationError) and _no_data(exc.detail):
        exc = exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [EMPTY_BODY]})
    return drf_exception_handler(exc, context)


def require_action(user, action: str, message: str) -> None:
    """403 before the payload is read: a role that may never write learns nothing from a 400."""
    if not permissions.has_action(user, action):
        raise exceptions.PermissionDenied(message)


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


class FileDownloadNegotiation(DefaultContentNegotiation):
    """A download answers a file whatever ``Accept`` says (``application/octet-stream``, ``*/*``, an
    Excel type …); errors then come back as JSON instead of a 406."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type
