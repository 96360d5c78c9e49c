"""The notification centre in the API (/api/v1/): the signed-in person's own daily digests.

``GET notifications/`` (own, newest first, paginated, with the first 20 items of each and
``item_count``; ``?unread=true``), ``GET notifications/{id}/items/`` (all items of one, paginated),
``GET notifications/unread-count/``, ``POST notifications/{id}/read/``,
``POST notifications/read-all/``, ``GET/PUT me/channels/``. Rows start from ``recipient=user``:
another person's notification is 404. Writes go through ``services_notifications``.
"""

from __future__ import annotations

from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from apps.core.templatetags.qd import cn_date

from . import selectors_notifications as selectors
from . import services_notifications as services
from .models import Notification, Reminder
from .schema import NamedChoiceField

router = SimpleRouter()


class ItemsPagination(PageNumberPagination):
    """The items of one notification, 100 a page (a district finance user can have thousands)."""

    page_size = selectors.ITEMS_PAGE_SIZE


class NotificationItemSerializer(serializers.ModelSerializer):
    stage = serializers.IntegerField(
        read_only=True, help_text="触发提醒的节点（距截止日期的天数：-7、-3、-1 到期前，0 当天，1、3 逾期升级）"
    )
    days_from_due = serializers.SerializerMethodField(
        help_text="通知当日距截止日期的天数：正数为已逾期天数，0 为当天到期，负数为尚未到期（还有几天）"
    )
    stage_label = serializers.SerializerMethodField(help_text="通知当日的状态：还有3天到期 | 今天到期 | 已逾期2天")
    overdue = serializers.SerializerMethodField(help_text="通知当日已过截止日期")
    due_on_display = serializers.SerializerMethodField(help_text="截止日期，如 2026年12月1日")
    reason = NamedChoiceField(
        Reminder.Reason.choices,
        enum_name="ReminderReasonEnum",
        read_only=True,
        help_text="提醒原因：actor 经办 | department 升级至部门 | finance 升级至财政",
    )
    reason_display = serializers.CharField(source="get_reason_display", read_only=True)
    escalation_note = serializers.SerializerMethodField(help_text="升级提醒的说明；本人经办的事项为空")
    organization_name = serializers.CharField(source="organization.name", read_only=True, help_text="责任单位")
    url = serializers.SerializerMethodField(help_text="办理该事项的页面（本站路径）")

    class Meta:
        model = Reminder
        fields = [
            "id", "title", "url", "due_on", "due_on_display", "stage", "days_from_due", "stage_label", "overdue",
            "reason", "reason_display", "escalation_note", "organization", "organization_name",
        ]  # fmt: skip
        read_only_fields = fields

    def get_days_from_due(self, item) -> int:
        return selectors.days_from_due(item)

    def get_stage_label(self, item) -> str:
        return selectors.stage_text(item)

    def get_overdue(self, item) -> bool:
        return selectors.days_from_due(item) > 0

    def get_due_on_display(self, item) -> str:
        return cn_date(item.due_on)

    def get_escalation_note(self, item) -> str:
        return selectors.escalation_note(item)

    def get_url(self, item) -> str:
        return selectors.item_link(item)


class NotificationSerializer(serializers.ModelSerializer):
    title = serializers.SerializerMethodField(help_text="如 2026年11月26日 催办提醒")
    unread = serializers.SerializerMethodField(help_text="是否未读")
    read_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="已读时间；未读为空")
    item_count = serializers.IntegerField(read_only=True, help_text="这条通知的事项总数")
    overdue_count = serializers.IntegerField(read_only=True, help_text="其中通知当日已逾期的事项数")
    items = NotificationItemSerializer(
        source="first_items",
        many=True,
        read_only=True,
        help_text=f"最先到期的至多 {selectors.ITEMS_SHOWN} 项；全部事项见 items_url（item_count 大于 items 条数时）",
    )
    items_url = serializers.SerializerMethodField(help_text="这条通知全部事项的接口地址（分页）")

    class Meta:
        model = Notification
        fields = [
            "id", "day", "title", "unread", "read_at", "created_at", "updated_at", "item_count", "overdue_count",
            "items", "items_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_title(self, notification) -> str:
        return selectors.digest_title(notification)

    def get_unread(self, notification) -> bool:
        return notification.read_at is None

    def get_items_url(self, notification) -> str:
        return reverse("api:notification-items", args=[notification.pk])


UnreadCount = inline_serializer("NotificationUnreadCount", {"unread": serializers.IntegerField()})
ReadResult = inline_serializer(
    "NotificationReadResult", {"marked": serializers.IntegerField(help_text="本次由未读变为已读的条数")}
)


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """消息提醒：本人的每日催办提醒（只含本人的通知）。"""

    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()  # rows come from get_queryset (own only)
    filter_backends: list = []  # no ordering/search by arbitrary fields: newest first, ``?unread=true``
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        if self.action not in ("list", "retrieve"):  # read, items: the row itself, without its items
            return Notification.objects.filter(recipient=self.request.user)
        unread_only = self.action == "list" and self.request.query_params.get("unread") in ("true", "1")
        return selectors.notification_list(self.request.user, unread_only=unread_only)

    @extend_schema(
        parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL, description="true：只列未读的通知")],
    )
    def list(self, request, *args, **kwargs):
        """本人的通知，新的在前，分页，含各通知的事项。"""
        return super().list(request, *args, **kwargs)

    @extend_schema(responses=NotificationSerializer)
    def retrieve(self, request, *args, **kwargs):
        """本人的一条通知（含最先到期的至多 20 项，全部事项见 items_url）。"""
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(responses=NotificationItemSerializer(many=True))
    @action(detail=True, methods=["get"], serializer_class=NotificationItemSerializer, pagination_class=ItemsPagination)
    def items(self, request, pk=None):
        """本人一条通知的全部事项，最先到期的在前，分页（每页 100 项）。"""
        notification = self.get_object()
        page = self.paginate_queryset(selectors.notification_items(notification))
        return self.get_paginated_response(NotificationItemSerializer(page, many=True).data)

    @extend_schema(responses=UnreadCount)
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request):
        """未读通知条数（页眉铃铛上的数字）。"""
        return Response({"unread": selectors.unread_count(request.user)})

    @extend_schema(request=None, responses=ReadResult)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """标为已读（重复提交无影响）。"""
        notification = self.get_object()
        return Response({"marked": int(services.notification_mark_read(actor=request.user, notification=notification))})

    @extend_schema(request=None, responses=ReadResult)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        """全部标为已读。"""
        return Response({"marked": services.notification_mark_all_read(actor=request.user)})


router.register("notifications", NotificationViewSet, basename="notification")


class ChannelsSerializer(serializers.Serializer):
    # DRF formats this message with ``datatype``: the example's braces are doubled.
    default_error_messages = {"invalid": '请求内容应为 JSON 对象，如 {{"email": true}}。'}

    email = serializers.BooleanField(
        help_text="是否接收邮件提醒",
        error_messages={
            "required": "缺少字段 email（是否接收邮件提醒），请填写 true 或 false。",
            "invalid": "字段 email（是否接收邮件提醒）应为 true 或 false。",
            "null": "字段 email（是否接收邮件提醒）不能为空，请填写 true 或 false。",
        },
    )
    in_app = serializers.BooleanField(
        default=True,
        help_text="站内通知：始终开启，不能关闭",
        error_messages={"invalid": "字段 in_app（站内通知）应为 true；站内通知不能关闭。"},
    )
    address = serializers.CharField(read_only=True, help_text="登记的邮箱地址；为空时无法发送邮件")
    email_possible = serializers.BooleanField(read_only=True, help_text="是否登记了邮箱地址（可发送邮件）")

    def validate_in_app(self, value: bool) -> bool:
        if value is not True:
            raise serializers.ValidationError("站内通知不能关闭（字段 in_app 只能为 true）。")
        return value


class ChannelsView(APIView):
    """提醒渠道：站内通知始终开启；邮件可开可关（修改记入审计日志）。"""

    def _answer(self, request) -> Response:
        channels = selectors.channels_of(request.user)
        return Response(ChannelsSerializer(channels).data)

    @extend_schema(responses=ChannelsSerializer)
    def get(self, request):
        return self._answer(request)

    @extend_schema(request=ChannelsSerializer, responses=ChannelsSerializer)
    def put(self, request):
        serializer = ChannelsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.channels_update(actor=request.user, email=serializer.validated_data["email"])
        return self._answer(request)


urlpatterns = [path("me/channels/", ChannelsView.as_view(), name="me-channels")]
