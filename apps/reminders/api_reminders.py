"""API of finance's reminder pages under /api/v1/:

* ``GET reminders/`` (scoped, filters) and ``GET reminders/upcoming/?days=7`` (what the sweep will send);
* ``GET email-digests/?status=failed`` and ``POST email-digests/{id}/resend/``;
* ``GET/PUT reminder-rules/current/`` (the user's region's rule).

Thin: rows from ``restrict`` (an out-of-scope id is 404, a role without the action 403), writes
through ``services_reminders`` with the pages' Chinese messages (400 by field).
"""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from apps.core import permissions
from apps.core.api import ScopedViewSetMixin
from apps.orgs.models import Organization

from . import selectors_reminders as selectors
from . import services_reminders as services
from .models import EmailDigest, Reminder

router = SimpleRouter()
MAX_UPCOMING_DAYS = 14


# --- reminders --------------------------------------------------------------------------------


class ReminderSerializer(serializers.ModelSerializer):
    recipient_name = serializers.CharField(source="recipient.display_name", read_only=True)
    recipient_organization_name = serializers.CharField(
        source="recipient.organization.name", read_only=True, default=None
    )
    organization_name = serializers.CharField(source="organization.name", read_only=True, help_text="责任单位")
    department_name = serializers.SerializerMethodField(help_text="责任单位所属部门")
    step_display = serializers.SerializerMethodField(help_text="业务环节名称")
    stage = serializers.IntegerField(
        read_only=True, help_text="提醒节点：距截止日期的天数，-3 到期前3天，0 当日，1 逾期1天"
    )
    stage_label = serializers.CharField(read_only=True)
    reason = serializers.CharField(read_only=True, help_text="actor 经办 | department 升级至部门 | finance 升级至财政")
    reason_display = serializers.CharField(source="get_reason_display", read_only=True)
    read_at = serializers.DateTimeField(
        source="notification.read_at", read_only=True, default=None, help_text="站内通知已读时间"
    )
    email_status = serializers.CharField(
        source="email_digest.status",
        read_only=True,
        default=None,
        help_text="邮件状态：pending 待发送 | sending 发送中 | sent 已发送 | retrying 重试中 | failed 发送失败 | "
        "skipped 未发送；空表示并入次日邮件",
    )

    class Meta:
        model = Reminder
        fields = [
            "id", "recipient", "recipient_name", "recipient_organization_name", "organization", "organization_name",
            "department_name", "step", "step_display", "stage", "stage_label", "due_on", "reason", "reason_display",
            "title", "url", "created_at", "read_at", "email_status",
        ]  # fmt: skip
        read_only_fields = fields

    def get_department_name(self, obj) -> str | None:
        department = obj.organization.department
        return department.name if department else None

    def get_step_display(self, obj) -> str:
        return selectors.step_label(obj.step)


class ReminderFilter(django_filters.FilterSet):
    date_from = django_filters.DateFilter(method="filter_date_from", label="生成日期起（含）")
    date_to = django_filters.DateFilter(method="filter_date_to", label="生成日期止（含）")
    department = django_filters.NumberFilter(method="filter_department", label="部门 id（含下属单位）")
    step = django_filters.CharFilter(field_name="step", label="业务环节代码")
    reason = django_filters.ChoiceFilter(choices=Reminder.Reason.choices, label="提醒原因")
    recipient_name = django_filters.CharFilter(method="filter_recipient", label="接收人姓名或账号")
    due_on = django_filters.DateFilter(field_name="due_on", label="截止日期")

    class Meta:
        model = Reminder
        fields = ["recipient", "organization", "stage"]

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=selectors.day_start(value))

    def filter_date_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=selectors.day_start(value + timedelta(days=1)))

    def filter_department(self, queryset, name, value):
        path = Organization.objects.filter(pk=value).values_list("path", flat=True).first()
        return queryset.filter(organization__path__startswith=path) if path else queryset.none()

    def filter_recipient(self, queryset, name, value):
        return queryset.filter(Q(recipient__real_name__icontains=value) | Q(recipient__username__icontains=value))


class UpcomingRecipientSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    reason = serializers.CharField(help_text="actor 经办 | department 升级至部门 | finance 升级至财政")


class UpcomingItemSerializer(serializers.Serializer):
    title = serializers.CharField()
    url = serializers.CharField()
    due_on = serializers.DateField()
    stage = serializers.IntegerField()
    stage_label = serializers.CharField()
    recipients = UpcomingRecipientSerializer(many=True)


class UpcomingGroupSerializer(serializers.Serializer):
    day = serializers.DateField(help_text="扫描日期")
    step = serializers.CharField()
    step_display = serializers.CharField(source="step_label")
    items = UpcomingItemSerializer(many=True)


class ReminderViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """Reminders recorded in the user's scope (finance: its region; sector divisions: their departments)."""

    queryset = Reminder.objects.all()
    serializer_class = ReminderSerializer
    scope_action = selectors.VIEW
    filterset_class = ReminderFilter
    search_fields = ["title"]
    ordering_fields = ["created_at", "due_on"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.reminder_list(self.request.user)

    @extend_schema(
        parameters=[OpenApiParameter("days", int, description=f"天数（1–{MAX_UPCOMING_DAYS}，默认 7），从今天起")],
        responses=UpcomingGroupSerializer(many=True),
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def upcoming(self, request):
        """What the sweep will send in the user's region on each of the next days, by day and step."""
        raw = request.query_params.get("days", "7")
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_UPCOMING_DAYS:
            raise exceptions.ValidationError({"days": [f"天数应为 1–{MAX_UPCOMING_DAYS} 之间的整数。"]})
        groups = selectors.upcoming(request.user, timezone.localdate(), int(raw))
        data = [
            {
                "day": g.day,
                "step": g.step,
                "step_label": g.step_label,
                "items": [
                    {
                        "title": i.title,
                        "url": i.url,
                        "due_on": i.due_on,
                        "stage": i.stage,
                        "stage_label": i.stage_label,
                        "recipients": [
                            {"id": uid, "name": name, "reason": reason}
                            for (uid, reason), name in zip(i.recipients, i.names, strict=True)
                        ],
                    }
                    for i in g.items
                ],
            }
            for g in groups
        ]
        return Response(UpcomingGroupSerializer(data, many=True).data)


router.register("reminders", ReminderViewSet, basename="reminder")


# --- e-mail digests -----------------------------------------------------------------------------


class EmailDigestSerializer(serializers.ModelSerializer):
    recipient_name = serializers.CharField(source="recipient.display_name", read_only=True)
    recipient_organization_name = serializers.CharField(
        source="recipient.organization.name", read_only=True, default=None
    )
    status = serializers.CharField(
        read_only=True,
        help_text="pending 待发送 | sending 发送中 | sent 已发送 | retrying 重试中 | failed 发送失败 | skipped 未发送",
    )
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    item_count = serializers.IntegerField(read_only=True, help_text="邮件中的提醒事项数")

    class Meta:
        model = EmailDigest
        fields = [
            "id", "recipient", "recipient_name", "recipient_organization_name", "day", "address", "status",
            "status_display", "skip_reason", "attempts", "last_error", "next_attempt_at", "sent_at", "item_count",
            "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class ResendSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200, help_text="说明（可选）"
    )


class ResendResultSerializer(EmailDigestSerializer):
    resent = serializers.BooleanField(read_only=True, help_text="本次是否重新排队（已在发送或已发送的为 false）")

    class Meta(EmailDigestSerializer.Meta):
        fields = [*EmailDigestSerializer.Meta.fields, "resent"]
        read_only_fields = fields


class EmailDigestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=EmailDigest.Status.choices, label="状态")
    problems = django_filters.BooleanFilter(method="filter_problems", label="只看发送失败和重试中")

    class Meta:
        model = EmailDigest
        fields = ["recipient", "day"]

    def filter_problems(self, queryset, name, value):
        return queryset.filter(status__in=selectors.PROBLEM_STATUSES) if value else queryset


class EmailDigestViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """Daily e-mail digests of the people in the user's scope, with their sending state."""

    queryset = EmailDigest.objects.all()
    serializer_class = EmailDigestSerializer
    scope_action = selectors.VIEW
    filterset_class = EmailDigestFilter
    ordering_fields = ["day", "attempts"]

    def get_queryset(self):
        return selectors.digest_list(self.request.user)

    @extend_schema(request=ResendSerializer, responses=ResendResultSerializer)
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        """A failed or retrying e-mail back to pending and queued now (audited); a second call changes nothing."""
        if not permissions.has_action(request.user, selectors.MANAGE):
            raise exceptions.PermissionDenied("只有本区域财政部门（绩效管理处）可以重发邮件提醒。")
        digest = get_object_or_404(
            EmailDigest.objects.restrict(request.user, selectors.MANAGE).select_related("recipient"), pk=pk
        )
        payload = ResendSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        resent = services.email_digest_resend(
            actor=request.user, digest=digest, comment=payload.validated_data["comment"]
        )
        fresh = selectors.digest_list(request.user).get(pk=digest.pk)
        fresh.resent = resent
        return Response(ResendResultSerializer(fresh).data)


router.register("email-digests", EmailDigestViewSet, basename="email-digest")


# --- the region's rule --------------------------------------------------------------------------


def _int_field(label: str) -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False,
        error_messages={"invalid": f"“{label}”必须是整数。", "max_string_length": f"“{label}”过长。"},
    )


class ReminderRuleSerializer(serializers.Serializer):
    """Absent fields keep their current value."""

    organization_name = serializers.CharField(read_only=True, help_text="财政部门")
    is_default = serializers.BooleanField(read_only=True, help_text="尚未设置，使用默认规则")
    enabled = serializers.BooleanField(required=False, help_text="启用催办提醒")
    days_before = serializers.CharField(
        required=False, allow_blank=True, max_length=40, help_text="提前提醒天数，逗号分隔，如 7,3,1"
    )
    on_due_day = serializers.BooleanField(required=False, help_text="到期当日提醒")
    escalate_department_after = _int_field("逾期多少天后提醒部门审核人")
    escalate_finance_after = _int_field("逾期多少天后提醒财政审核人")
    stop_after = _int_field("逾期多少天后不再提醒")
    stages = serializers.ListField(child=serializers.CharField(), read_only=True, help_text="规则的提醒节点")


class ReminderRuleCurrentView(APIView):
    """The reminder rule of the user's region: read with ``reminder.view``, change with ``reminder.manage``."""

    serializer_class = ReminderRuleSerializer

    def _data(self, request) -> dict:
        bureau, rule, is_default = selectors.region_rule(request.user)
        if bureau is None:
            raise exceptions.NotFound("您所在机构不属于财政部门，没有提醒规则。")
        return {
            "organization_name": bureau.name,
            "is_default": is_default,
            **{name: getattr(rule, name) for name in services.RULE_FIELDS},
            "stages": selectors.rule_stages(rule),
        }

    @extend_schema(responses=ReminderRuleSerializer)
    def get(self, request):
        if not permissions.has_action(request.user, selectors.VIEW):
            raise exceptions.PermissionDenied("您的角色无权使用此接口。")
        return Response(ReminderRuleSerializer(self._data(request)).data)

    @extend_schema(request=ReminderRuleSerializer, responses=ReminderRuleSerializer)
    def put(self, request):
        if not permissions.has_action(request.user, selectors.MANAGE):
            raise exceptions.PermissionDenied("只有本区域财政部门（绩效管理处）可以设置提醒规则。")
        current = self._data(request)
        payload = ReminderRuleSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        values = {name: current[name] for name in services.RULE_FIELDS} | payload.validated_data
        services.reminder_rule_save(actor=request.user, data=values)
        return Response(ReminderRuleSerializer(self._data(request)).data)


urlpatterns: list = [
    path("reminder-rules/current/", ReminderRuleCurrentView.as_view(), name="reminder-rule-current"),
]
