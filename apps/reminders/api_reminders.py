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
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from apps.core.api import ScopedViewSetMixin, require_action
from apps.orgs.models import Organization

from . import selectors_reminders as selectors
from . import services_reminders as services
from .models import EmailDigest, Reminder
from .schema import NamedChoiceField
from .selectors_notifications import safe_link

router = SimpleRouter()
MAX_UPCOMING_DAYS = 14
STEP_CHOICES = list(selectors.STEP_LABELS.items())
STEP_ENUM, REASON_ENUM, STATUS_ENUM = "ReminderStepEnum", "ReminderReasonEnum", "EmailDigestStatusEnum"
REASON_HELP = "提醒原因：actor 经办 | department 升级至部门 | finance 升级至财政"
STATUS_HELP = (
    "邮件状态：pending 待发送 | sending 发送中 | sent 已发送 | retrying 重试中 | failed 发送失败 | skipped 未发送"
)


# --- reminders --------------------------------------------------------------------------------


class ReminderSerializer(serializers.ModelSerializer):
    recipient_name = serializers.CharField(source="recipient.display_name", read_only=True, help_text="接收人")
    recipient_organization_name = serializers.CharField(
        source="recipient.organization.name", read_only=True, default=None, allow_null=True, help_text="接收人所在机构"
    )
    organization_name = serializers.CharField(source="organization.name", read_only=True, help_text="责任单位")
    department_name = serializers.SerializerMethodField(help_text="责任单位所属部门")
    step = NamedChoiceField(STEP_CHOICES, enum_name=STEP_ENUM, read_only=True, help_text="业务环节代码")
    step_display = serializers.SerializerMethodField(help_text="业务环节名称")
    stage = serializers.IntegerField(
        read_only=True, help_text="提醒节点：距截止日期的天数，-3 到期前3天，0 当日，1 逾期1天"
    )
    stage_label = serializers.CharField(read_only=True, help_text="提醒节点的文字，如 还有3天到期")
    reason = NamedChoiceField(Reminder.Reason.choices, enum_name=REASON_ENUM, read_only=True, help_text=REASON_HELP)
    reason_display = serializers.CharField(source="get_reason_display", read_only=True)
    url = serializers.SerializerMethodField(help_text="办理该事项的页面（本站路径）")
    classified = serializers.BooleanField(read_only=True, help_text="涉密资金的事项：邮件中不显示事项名称")
    read_at = serializers.DateTimeField(
        source="notification.read_at",
        read_only=True,
        default=None,
        allow_null=True,
        help_text="站内通知已读时间；未读为空",
    )
    email_status = NamedChoiceField(
        EmailDigest.Status.choices,
        enum_name=STATUS_ENUM,
        source="email_digest.status",
        read_only=True,
        default=None,
        allow_null=True,
        help_text=STATUS_HELP + "；为空表示并入次日邮件",
    )

    class Meta:
        model = Reminder
        fields = [
            "id", "recipient", "recipient_name", "recipient_organization_name", "organization", "organization_name",
            "department_name", "step", "step_display", "stage", "stage_label", "due_on", "reason", "reason_display",
            "title", "url", "classified", "created_at", "read_at", "email_status",
        ]  # fmt: skip
        read_only_fields = fields

    def get_department_name(self, obj) -> str | None:
        department = obj.organization.department
        return department.name if department else None

    def get_step_display(self, obj) -> str:
        return selectors.step_label(obj.step)

    def get_url(self, obj) -> str:
        return safe_link(obj.url)


def _visible_organizations(request):
    if request is None:  # the schema
        return Organization.objects.none()
    return Organization.objects.restrict(request.user, selectors.VIEW)


def _reminder_recipients(request):
    """People who received a reminder the user may see: no answer about anyone else."""
    if request is None:
        return get_user_model().objects.none()
    return get_user_model().objects.filter(
        pk__in=Reminder.objects.restrict(request.user, selectors.VIEW).values("recipient_id")
    )


def _digest_recipients(request):
    """People whose e-mails the user may see (an e-mail is scoped through its recipient)."""
    if request is None:
        return get_user_model().objects.none()
    return get_user_model().objects.restrict(request.user, selectors.VIEW)


def _not_in_scope(label: str) -> dict:
    # The same words for an id that does not exist and one out of scope: no existence oracle.
    return {"invalid_choice": f"{label}不存在或不在您的查看范围内。"}


def _choice_error(label: str, choices) -> dict:
    codes = "、".join(code for code, _ in choices)
    return {"invalid_choice": f"{label}“%(value)s”无效，可选：{codes}。"}


class ReminderFilter(django_filters.FilterSet):
    date_from = django_filters.DateFilter(
        method="filter_date_from",
        label="生成日期起（含）",
        error_messages={"invalid": "生成日期起（date_from）格式应为 2026-11-25。"},
    )
    date_to = django_filters.DateFilter(
        method="filter_date_to",
        label="生成日期止（含）",
        error_messages={"invalid": "生成日期止（date_to）格式应为 2026-11-25。"},
    )
    department = django_filters.ModelChoiceFilter(
        queryset=_visible_organizations,
        field_name="organization",  # the schema reads the id's type from it; the method filters
        method="filter_department",
        label="部门 id（含下属单位）",
        error_messages=_not_in_scope("部门（department）"),
    )
    organization = django_filters.ModelChoiceFilter(
        queryset=_visible_organizations, label="责任单位 id", error_messages=_not_in_scope("责任单位（organization）")
    )
    recipient = django_filters.ModelChoiceFilter(
        queryset=_reminder_recipients, label="接收人 id", error_messages=_not_in_scope("接收人（recipient）")
    )
    step = django_filters.ChoiceFilter(
        choices=STEP_CHOICES, label="业务环节", error_messages=_choice_error("业务环节（step）", STEP_CHOICES)
    )
    reason = django_filters.ChoiceFilter(
        choices=Reminder.Reason.choices,
        label="提醒原因",
        error_messages=_choice_error("提醒原因（reason）", Reminder.Reason.choices),
    )
    stage = django_filters.NumberFilter(
        label="提醒节点（距截止日期的天数）", error_messages={"invalid": "提醒节点（stage）应为整数，如 -3、0、1。"}
    )
    recipient_name = django_filters.CharFilter(method="filter_recipient", label="接收人姓名或账号")
    due_on = django_filters.DateFilter(
        field_name="due_on", label="截止日期", error_messages={"invalid": "截止日期（due_on）格式应为 2026-11-25。"}
    )

    class Meta:
        model = Reminder
        fields: list[str] = []

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=selectors.day_start(value))

    def filter_date_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=selectors.day_start(value + timedelta(days=1)))

    def filter_department(self, queryset, name, value):
        return queryset.filter(organization__path__startswith=value.path)

    def filter_recipient(self, queryset, name, value):
        return queryset.filter(Q(recipient__real_name__icontains=value) | Q(recipient__username__icontains=value))


class UpcomingRecipientSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="接收人 id")
    name = serializers.CharField(help_text="接收人姓名")
    reason = NamedChoiceField(Reminder.Reason.choices, enum_name=REASON_ENUM, help_text=REASON_HELP)


class UpcomingItemSerializer(serializers.Serializer):
    title = serializers.CharField(help_text="事项")
    url = serializers.CharField(help_text="办理该事项的页面（本站路径）")
    due_on = serializers.DateField(help_text="截止日期")
    stage = serializers.IntegerField(help_text="提醒节点：距截止日期的天数")
    stage_label = serializers.CharField(help_text="提醒节点的文字，如 还有3天到期")
    recipients = UpcomingRecipientSerializer(many=True, help_text="接收人")


class UpcomingGroupSerializer(serializers.Serializer):
    day = serializers.DateField(help_text="扫描日期")
    step = NamedChoiceField(STEP_CHOICES, enum_name=STEP_ENUM, help_text="业务环节代码")
    step_display = serializers.CharField(source="step_label", help_text="业务环节名称")
    items = UpcomingItemSerializer(many=True)


class UpcomingQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(
        required=False,
        default=7,
        min_value=1,
        max_value=MAX_UPCOMING_DAYS,
        help_text=f"天数（1–{MAX_UPCOMING_DAYS}，默认 7），从今天起",
        error_messages=dict.fromkeys(
            ("invalid", "min_value", "max_value", "max_string_length", "null"),
            f"天数应为 1–{MAX_UPCOMING_DAYS} 之间的整数。",
        ),
    )


class ReminderViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """催办提醒：本人查看范围内已生成的提醒（财政部门：本区域；业务处室：分管部门）。"""

    queryset = Reminder.objects.all()
    serializer_class = ReminderSerializer
    scope_action = selectors.VIEW
    filter_backends = [DjangoFilterBackend, SearchFilter, OrderingFilter]
    filterset_class = ReminderFilter
    search_fields = ["title"]
    ordering_fields = ["created_at", "due_on"]
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        return selectors.reminder_list(self.request.user)

    @extend_schema(
        summary="已生成的催办提醒",
        description="新的在前，分页；可按日期、部门、业务环节、原因、接收人筛选，search 按事项名称查找。",
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="一条催办提醒")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(parameters=[UpcomingQuerySerializer], responses=UpcomingGroupSerializer(many=True))
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def upcoming(self, request):
        """即将提醒：按当前工作日历、提醒规则和办理状态推算，本区域今后每天扫描将发出的提醒（按日期和业务环节分组，已发送过的不再列出）。"""
        query = UpcomingQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        groups = selectors.upcoming(request.user, timezone.localdate(), query.validated_data["days"])
        data = [
            {
                "day": g.day,
                "step": g.step,
                "step_label": g.step_label,
                "items": [
                    {
                        "title": i.title,
                        "url": i.link,
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
    recipient_name = serializers.CharField(source="recipient.display_name", read_only=True, help_text="接收人")
    recipient_organization_name = serializers.CharField(
        source="recipient.organization.name", read_only=True, default=None, allow_null=True, help_text="接收人所在机构"
    )
    status = NamedChoiceField(EmailDigest.Status.choices, enum_name=STATUS_ENUM, read_only=True, help_text=STATUS_HELP)
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
    resent = serializers.BooleanField(
        read_only=True, help_text="本次是否重新排队（已发送、未发送、正在发送的，或接收人现在不能接收邮件的为 false）"
    )
    message = serializers.CharField(read_only=True, help_text="结果说明；未重发时说明原因")

    class Meta(EmailDigestSerializer.Meta):
        fields = [*EmailDigestSerializer.Meta.fields, "resent", "message"]
        read_only_fields = fields


class EmailDigestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=EmailDigest.Status.choices,
        label="状态",
        error_messages=_choice_error("状态（status）", EmailDigest.Status.choices),
    )
    problems = django_filters.BooleanFilter(method="filter_problems", label="只看发送失败和重试中")
    recipient = django_filters.ModelChoiceFilter(
        queryset=_digest_recipients, label="接收人 id", error_messages=_not_in_scope("接收人（recipient）")
    )
    day = django_filters.DateFilter(
        label="提醒日期", error_messages={"invalid": "提醒日期（day）格式应为 2026-11-25。"}
    )

    class Meta:
        model = EmailDigest
        fields: list[str] = []

    def filter_problems(self, queryset, name, value):
        return queryset.filter(status__in=selectors.PROBLEM_STATUSES) if value else queryset


class EmailDigestViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """邮件提醒：本人查看范围内人员的每日催办邮件及其发送状态。"""

    queryset = EmailDigest.objects.all()
    serializer_class = EmailDigestSerializer
    scope_action = selectors.VIEW
    filter_backends = [DjangoFilterBackend, OrderingFilter]  # nothing to search by text
    filterset_class = EmailDigestFilter
    ordering_fields = ["day", "attempts"]
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        return selectors.digest_list(self.request.user)

    @extend_schema(summary="每日催办邮件", description="新的在前，分页；可按状态、接收人、日期筛选。")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="一封每日催办邮件")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(request=ResendSerializer, responses=ResendResultSerializer)
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        """手工重发：发送失败或重试中的邮件重新排队、立即发送（记入审计日志）。

        已发送、未发送的邮件，或接收人账号已停用、未开启邮件提醒、未登记邮箱的，不重发：resent 为
        false，message 说明原因。重复提交不会重复发送。"""
        require_action(request.user, selectors.MANAGE, "只有本区域财政部门（绩效管理处）可以重发邮件提醒。")
        digest = get_object_or_404(
            EmailDigest.objects.restrict(request.user, selectors.MANAGE).select_related("recipient"), pk=pk
        )
        payload = ResendSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = services.email_digest_resend(
            actor=request.user, digest=digest, comment=payload.validated_data["comment"]
        )
        fresh = selectors.digest_list(request.user).get(pk=digest.pk)
        fresh.resent, fresh.message = result.resent, result.message
        return Response(ResendResultSerializer(fresh).data)


router.register("email-digests", EmailDigestViewSet, basename="email-digest")


# --- the region's rule --------------------------------------------------------------------------


def _int_field(label: str, high: int, hint: str) -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=high,
        help_text=f"{label}（0–{high}，{hint}）",
        error_messages={
            "invalid": f"“{label}”必须是整数。",
            "max_string_length": f"“{label}”过长。",
            "min_value": f"“{label}”应在 0–{high} 之间（{hint}）。",
            "max_value": f"“{label}”应在 0–{high} 之间（{hint}）。",
        },
    )


class ReminderRuleSerializer(serializers.Serializer):
    """本区域的提醒规则；修改时未提交的字段保持原值。"""

    organization_name = serializers.CharField(read_only=True, help_text="财政部门")
    is_default = serializers.BooleanField(read_only=True, help_text="尚未设置，使用默认规则")
    enabled = serializers.BooleanField(required=False, help_text="启用催办提醒")
    days_before = serializers.CharField(
        required=False, allow_blank=True, max_length=40, help_text="提前提醒天数，逗号分隔，如 7,3,1"
    )
    on_due_day = serializers.BooleanField(required=False, help_text="到期当日提醒")
    escalate_department_after = _int_field("逾期多少天后提醒部门审核人", services.MAX_ESCALATE, "0 表示不升级")
    escalate_finance_after = _int_field("逾期多少天后提醒财政审核人", services.MAX_ESCALATE, "0 表示不升级")
    stop_after = _int_field("逾期多少天后不再提醒", services.MAX_STOP, "0 表示一直提醒")
    stages = serializers.ListField(child=serializers.CharField(), read_only=True, help_text="规则的提醒节点")


class ReminderRuleCurrentView(APIView):
    """本区域的提醒规则：财政部门可查看，绩效管理处可修改（记入审计日志）。"""

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

    @extend_schema(summary="查看本区域的提醒规则", responses=ReminderRuleSerializer)
    def get(self, request):
        require_action(request.user, selectors.VIEW, "您的角色无权使用此接口。")
        return Response(ReminderRuleSerializer(self._data(request)).data)

    @extend_schema(summary="修改本区域的提醒规则", request=ReminderRuleSerializer, responses=ReminderRuleSerializer)
    def put(self, request):
        require_action(request.user, selectors.MANAGE, "只有本区域财政部门（绩效管理处）可以设置提醒规则。")
        current = self._data(request)
        payload = ReminderRuleSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        values = {name: current[name] for name in services.RULE_FIELDS} | payload.validated_data
        services.reminder_rule_save(actor=request.user, data=values)
        return Response(ReminderRuleSerializer(self._data(request)).data)


urlpatterns: list = [
    path("reminder-rules/current/", ReminderRuleCurrentView.as_view(), name="reminder-rule-current"),
]
