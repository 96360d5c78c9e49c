"""整改 API under /api/v1/: list and retrieve (scoped, filtered), create (one item; or all shortfalls
of a self-evaluation; or the problems of a key evaluation), and the steps save / submit / accept /
reopen. Thin: rows from ``restrict`` (an out-of-scope id is 404, a role without the action 403),
every write through ``services_rectification`` with the pages' Chinese messages (400 by field)."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.viewsets import GenericViewSet

from apps.attachments import registry as attachment_registry
from apps.attachments import selectors as attachment_selectors
from apps.attachments import services as attachment_services
from apps.core import permissions
from apps.core.api import ScopedViewSetMixin, require_action
from apps.evaluations.models import KeyEvaluation, SelfEvaluation
from apps.funds.models import SpecialFund
from apps.monitoring.models import KeyMonitoring
from apps.orgs.models import Organization

from . import selectors_rectification as selectors
from . import services_rectification as services
from .models import Rectification

router = SimpleRouter()
Source = Rectification.Source


class RectificationSerializer(serializers.ModelSerializer):
    source = serializers.CharField(
        read_only=True,
        help_text="self_evaluation 单位自评 | key_evaluation 重点评价 | monitoring 绩效监控 | audit 审计发现",
    )
    status = serializers.CharField(
        read_only=True, help_text="pending 待整改 | in_progress 整改中 | verifying 待核实 | done 已完成"
    )
    source_display = serializers.CharField(source="get_source_display", read_only=True)
    status_display = serializers.CharField(
        source="status_label", read_only=True, help_text="待整改 | 整改中 | 待核实 | 已完成（逾期另见 is_overdue）"
    )
    is_overdue = serializers.BooleanField(read_only=True, help_text="未完成且已过整改期限")
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    fund_code = serializers.CharField(source="fund.code", read_only=True, default=None)
    fund_name = serializers.CharField(source="fund.name", read_only=True, default=None)

    class Meta:
        model = Rectification
        fields = [
            "id", "source", "source_display", "source_reference", "self_evaluation", "key_evaluation",
            "key_monitoring", "fund", "fund_code", "fund_name", "organization", "organization_name", "fiscal_year",
            "problem", "requirement", "deadline", "measures", "progress_note", "status", "status_display",
            "is_overdue", "submitted_at", "completed_on", "verified_by", "verified_at", "verification_comment",
            "reopen_count", "created_by", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class EvidenceSerializer(serializers.Serializer):
    """One evidence file (整改佐证材料) of an item."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="original_name", read_only=True, help_text="文件名")
    size = serializers.IntegerField(read_only=True, help_text="大小（字节）")
    mime_type = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True, help_text="说明")
    uploaded_by_name = serializers.CharField(source="uploaded_by.display_name", read_only=True, help_text="上传人")
    uploaded_at = serializers.DateTimeField(read_only=True)
    download_url = serializers.SerializerMethodField(help_text="下载地址（令牌或网页会话均可）")

    def get_download_url(self, attachment) -> str:
        return reverse("api:attachment-download", args=[attachment.pk])


class EvidenceUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True,  # the attachments service refuses empty files with a message naming the file
        help_text="佐证材料文件：PDF、PNG/JPEG 图片、Word、Excel、PowerPoint，单个文件不超过上限",
        error_messages={
            "required": "请选择要上传的文件。",
            "invalid": "请以 multipart/form-data 上传文件。",
            "no_name": "上传的文件没有文件名。",
        },  # fmt: skip
    )
    description = serializers.CharField(required=False, allow_blank=True, default="", help_text="说明（可选）")


class RectificationDetailSerializer(RectificationSerializer):
    available_steps = serializers.SerializerMethodField(
        help_text="当前用户现在可执行的操作：start/submit/accept/reopen"
    )
    evidence = serializers.SerializerMethodField(help_text="整改佐证材料（当前用户可查看的）")

    class Meta(RectificationSerializer.Meta):
        fields = [*RectificationSerializer.Meta.fields, "available_steps", "evidence"]
        read_only_fields = fields

    def get_available_steps(self, obj) -> list[str]:
        return services.available_steps(obj, self.context["request"].user)

    @extend_schema_field(EvidenceSerializer(many=True))
    def get_evidence(self, obj):
        return EvidenceSerializer(attachment_selectors.visible_attachments(self.context["request"].user, obj),
                                  many=True).data  # fmt: skip


class RectificationCreateSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=Source.choices, default=Source.AUDIT)
    self_evaluation = serializers.IntegerField(required=False, allow_null=True, help_text="来源单位自评 id")
    key_evaluation = serializers.IntegerField(required=False, allow_null=True, help_text="来源重点评价 id")
    key_monitoring = serializers.IntegerField(required=False, allow_null=True, help_text="来源重点监控 id")
    organization = serializers.IntegerField(
        required=False, allow_null=True, help_text="整改责任单位 id（无来源记录时）"
    )
    fund = serializers.IntegerField(required=False, allow_null=True, help_text="专项资金 id（可选）")
    fiscal_year = serializers.IntegerField(required=False, allow_null=True)
    source_reference = serializers.CharField(required=False, allow_blank=True, default="")
    problem = serializers.CharField(allow_blank=True)
    requirement = serializers.CharField(required=False, allow_blank=True, default="")
    deadline = serializers.DateField(required=False, allow_null=True)


class RectificationFromSelfEvaluationSerializer(serializers.Serializer):
    self_evaluation = serializers.IntegerField()
    deadline = serializers.DateField(required=False, allow_null=True)
    requirement = serializers.CharField(required=False, allow_blank=True, default="")


class RectificationFromKeyEvaluationSerializer(serializers.Serializer):
    key_evaluation = serializers.IntegerField()
    problems = serializers.ListField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text="每项一个问题；省略时按“主要问题”逐条拆分",
    )
    deadline = serializers.DateField(required=False, allow_null=True)
    requirement = serializers.CharField(required=False, allow_blank=True, default="")


class RectificationSaveSerializer(serializers.Serializer):
    """Only the fields sent are changed; an absent field keeps its text."""

    measures = serializers.CharField(required=False, allow_blank=True, help_text="整改措施（省略则不变）")
    progress_note = serializers.CharField(required=False, allow_blank=True, help_text="整改情况（省略则不变）")


class RectificationCommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class RectificationReopenSerializer(RectificationCommentSerializer):
    deadline = serializers.DateField(required=False, allow_null=True, help_text="新的整改期限（可选）")


class RectificationFilter(django_filters.FilterSet):
    fiscal_year = django_filters.NumberFilter(field_name="fiscal_year", label="年度")
    status = django_filters.ChoiceFilter(
        choices=[*Rectification.Status.choices, (selectors.OVERDUE, "逾期")], method="filter_status", label="状态"
    )
    source = django_filters.ChoiceFilter(choices=Source.choices, label="问题来源")
    department = django_filters.NumberFilter(method="filter_department", label="主管部门 id（含下属单位）")
    q = django_filters.CharFilter(method="filter_q", label="项目名称、编码或问题")

    class Meta:
        model = Rectification
        fields = ["organization", "fund", "self_evaluation", "key_evaluation", "key_monitoring"]

    def filter_status(self, queryset, name, value):
        if value == selectors.OVERDUE:
            return queryset.filter(selectors.overdue_q())
        return queryset.filter(status=value)

    def filter_department(self, queryset, name, value):
        return queryset.filter(Q(organization_id=value) | Q(organization__parent_id=value))

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(fund__name__icontains=value) | Q(fund__code__icontains=value) | Q(problem__icontains=value)
        )


def _find(queryset, pk, field: str, label: str):
    if pk in (None, ""):
        return None
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise exceptions.ValidationError({field: [f"找不到该{label}，或您无权查看。"]})
    return obj


class RectificationViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """整改事项 in scope; writes call the pages' services."""

    queryset = Rectification.objects.all()
    serializer_class = RectificationSerializer
    scope_action = "rectification.view"
    filterset_class = RectificationFilter
    ordering_fields = ["deadline", "created_at", "updated_at"]

    def optimize(self, queryset):
        return queryset.select_related("organization", "fund").order_by("deadline", "id")

    def _detail(self, item, code=status.HTTP_200_OK) -> Response:
        item = self.get_queryset().get(pk=item.pk)
        return Response(RectificationDetailSerializer(item, context=self.get_serializer_context()).data, status=code)

    @extend_schema(responses=RectificationDetailSerializer)
    def retrieve(self, request, *args, **kwargs):
        return self._detail(self.get_object())

    def _may_create(self) -> None:
        require_action(self.request.user, "rectification.create", "您的角色无权下达整改事项。")

    @extend_schema(request=RectificationCreateSerializer, responses={201: RectificationDetailSerializer})
    def create(self, request):
        """下达整改 (finance of the unit's region): one item, from a record or by hand (审计发现)."""
        self._may_create()
        payload = RectificationCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        user = request.user
        source = data.pop("source")
        record = None
        if source == Source.SELF_EVALUATION:
            record = _find(SelfEvaluation.objects.restrict(user, "selfeval.view"), data.get("self_evaluation"),
                           "self_evaluation", "单位自评")  # fmt: skip
        elif source == Source.KEY_EVALUATION:
            record = _find(KeyEvaluation.objects.restrict(user, "evaluation.view"), data.get("key_evaluation"),
                           "key_evaluation", "重点评价")  # fmt: skip
        elif source == Source.MONITORING and data.get("key_monitoring"):
            record = _find(KeyMonitoring.objects.restrict(user, "monitoring.key"), data.get("key_monitoring"),
                           "key_monitoring", "重点监控项目")  # fmt: skip
        organization = _find(
            Organization.objects.restrict(user, "org.view"), data.get("organization"), "organization", "单位"
        )
        fund = _find(SpecialFund.objects.restrict(user, "fund.view"), data.get("fund"), "fund", "专项资金")
        item = services.rectification_create(
            actor=user,
            source=source,
            record=record,
            organization=organization,
            fund=fund,
            fiscal_year=data.get("fiscal_year"),
            source_reference=data["source_reference"],
            problem=data["problem"],
            requirement=data["requirement"],
            deadline=data.get("deadline"),
        )
        return self._detail(item, status.HTTP_201_CREATED)

    @extend_schema(
        request=RectificationFromSelfEvaluationSerializer, responses={201: RectificationSerializer(many=True)}
    )
    @action(detail=False, methods=["post"], url_path="from-self-evaluation")
    def from_self_evaluation(self, request):
        """One item per shortfall of a finance-confirmed self-evaluation (lines already raised are skipped)."""
        self._may_create()
        payload = RectificationFromSelfEvaluationSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        evaluation = _find(SelfEvaluation.objects.restrict(request.user, "selfeval.view"), data["self_evaluation"],
                           "self_evaluation", "单位自评")  # fmt: skip
        made = services.rectifications_from_self_evaluation(
            actor=request.user, evaluation=evaluation, deadline=data.get("deadline"), requirement=data["requirement"]
        )
        return Response(RectificationSerializer(made, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=RectificationFromKeyEvaluationSerializer, responses={201: RectificationSerializer(many=True)}
    )
    @action(detail=False, methods=["post"], url_path="from-key-evaluation")
    def from_key_evaluation(self, request):
        """One item per problem of a completed key evaluation (default: its findings, split per line)."""
        self._may_create()
        payload = RectificationFromKeyEvaluationSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        evaluation = _find(KeyEvaluation.objects.restrict(request.user, "evaluation.view"), data["key_evaluation"],
                           "key_evaluation", "重点评价")  # fmt: skip
        problems = data.get("problems")
        if problems is None:
            problems = services.split_findings(evaluation.findings)
        made = services.rectifications_from_key_evaluation(
            actor=request.user,
            evaluation=evaluation,
            problems=problems,
            deadline=data.get("deadline"),
            requirement=data["requirement"],
        )
        return Response(RectificationSerializer(made, many=True).data, status=status.HTTP_201_CREATED)

    def _step(self, request, payload_class, service) -> Response:
        """One workflow step on the item: validate the payload, call the service with it, answer the detail."""
        payload = payload_class(data=request.data)
        payload.is_valid(raise_exception=True)
        item = service(actor=request.user, item=self.get_object(), **payload.validated_data)
        return self._detail(item)

    @extend_schema(request=RectificationSaveSerializer, responses=RectificationDetailSerializer)
    @action(detail=True, methods=["post"], url_path="save")
    def save_progress(self, request, pk=None):
        """保存整改措施与整改情况 (the responsible unit; the first save starts the rectification)."""
        return self._step(request, RectificationSaveSerializer, services.rectification_save)

    @extend_schema(request=RectificationCommentSerializer, responses=RectificationDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """报送核实: measures, progress note and at least one evidence file required."""
        return self._step(request, RectificationCommentSerializer, services.rectification_submit)

    @extend_schema(request=RectificationCommentSerializer, responses=RectificationDetailSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """核实通过 → 已完成 (finance; comment optional)."""
        return self._step(request, RectificationCommentSerializer, services.rectification_accept)

    @extend_schema(request=RectificationReopenSerializer, responses=RectificationDetailSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """重新整改 → 整改中 (finance; comment required; optionally a new deadline)."""
        return self._step(request, RectificationReopenSerializer, services.rectification_reopen)

    @extend_schema(methods=["GET"], request=None, responses=EvidenceSerializer(many=True))
    @extend_schema(methods=["POST"], request={"multipart/form-data": EvidenceUploadSerializer},
                   responses={201: EvidenceSerializer})  # fmt: skip
    @action(detail=True, methods=["get", "post"], parser_classes=[MultiPartParser, FormParser], pagination_class=None)
    def evidence(self, request, pk=None):
        """整改佐证材料：GET 列出；POST 上传一个文件（multipart：file，可选 description）。

        与网页相同：整改责任单位（及其主管部门）在“待整改/整改中”时可上传；文件类型、内容与大小的检查相同。"""
        item = self.get_object()
        if request.method == "GET":
            rows = attachment_selectors.visible_attachments(request.user, item)
            return Response(EvidenceSerializer(rows, many=True).data)
        entry = attachment_registry.entry_for(item)  # the actions come from the registry, never the request
        if not permissions.can(request.user, entry.edit_action(item), item):
            raise exceptions.PermissionDenied("只有整改责任单位（及其主管部门）可以上传整改佐证材料。")
        payload = EvidenceUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            attachment = attachment_services.attachment_add(
                actor=request.user,
                obj=item,
                file=payload.validated_data["file"],
                view_action=entry.view,
                edit_action=entry.edit_action(item),
                description=payload.validated_data["description"],
            )
        except DjangoValidationError as exc:
            field = {"description": "description", "not_editable": None, "no_owner": None}.get(
                getattr(exc, "code", None), "file"
            )
            raise exceptions.ValidationError({field or "non_field_errors": exc.messages}) from None
        attachment = attachment_selectors.attachments_for(item).get(pk=attachment.pk)
        return Response(EvidenceSerializer(attachment).data, status=status.HTTP_201_CREATED)


router.register("rectifications", RectificationViewSet, basename="rectification")
