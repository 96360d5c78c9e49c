"""信息公开 API under /api/v1/disclosures/ (authenticated, scoped): list and read the disclosures the
user may see (``disclosure.view``), publish a record and withdraw a disclosure (``disclosure.publish``).
Thin: the same services and messages as the pages."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.viewsets import GenericViewSet

from apps.core.api import ScopedViewSetMixin, require_action

from . import services_disclosure as services
from .models import Disclosure

router = SimpleRouter()


class DisclosureSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(
        read_only=True, help_text="target 绩效目标 | self_evaluation 自评结果 | key_evaluation 重点评价报告"
    )
    status = serializers.CharField(read_only=True, help_text="published 已公开 | withdrawn 已撤回")
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    grade_display = serializers.CharField(source="get_grade_display", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    published_by_name = serializers.CharField(
        source="published_by.display_name", read_only=True, help_text="发布人姓名（未登记姓名时为账号）"
    )
    withdrawn_by_name = serializers.CharField(
        source="withdrawn_by.display_name", read_only=True, default=None, help_text="撤回人姓名（未登记姓名时为账号）"
    )

    class Meta:
        model = Disclosure
        fields = [
            "id", "kind", "kind_display", "target", "self_evaluation", "key_evaluation", "fund", "department",
            "department_name", "region", "region_name", "fiscal_year", "title", "amount", "score", "grade",
            "grade_display", "report", "status", "status_display", "published_by", "published_by_name",
            "published_at", "withdrawn_by", "withdrawn_by_name", "withdrawn_at", "withdraw_reason",
        ]  # fmt: skip
        read_only_fields = fields


class DisclosureDetailSerializer(DisclosureSerializer):
    content = serializers.JSONField(read_only=True, help_text="公开时冻结的公开内容")

    class Meta(DisclosureSerializer.Meta):
        fields = [*DisclosureSerializer.Meta.fields, "content"]
        read_only_fields = fields


class PublishSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="target 绩效目标 | self_evaluation 自评结果 | key_evaluation 重点评价报告")
    record = serializers.IntegerField(help_text="绩效目标、单位自评或重点评价的编号")
    report = serializers.IntegerField(
        required=False, allow_null=True, help_text="重点评价：公开的评价报告文件（该评价的附件编号），必填"
    )

    def validate_kind(self, value):
        if value not in Disclosure.Kind.values:
            raise serializers.ValidationError("公开类型不正确，应为 target、self_evaluation 或 key_evaluation。")
        return value


class WithdrawSerializer(serializers.Serializer):
    withdraw_reason = serializers.CharField(allow_blank=True, max_length=1000, help_text="撤回理由（必填）")


class DisclosureViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    queryset = Disclosure.objects.all()
    scope_action = "disclosure.view"
    filterset_fields = ["kind", "status", "fiscal_year", "region", "department", "grade"]
    search_fields = ["title"]
    ordering_fields = ["published_at", "score"]

    def get_serializer_class(self):
        if self.action == "retrieve":
            return DisclosureDetailSerializer
        return DisclosureSerializer

    def optimize(self, queryset):
        queryset = queryset.select_related("region", "department", "published_by", "withdrawn_by")
        return queryset if self.action == "retrieve" else queryset.defer("content")

    def _require_publish(self, request):
        require_action(request.user, services.PUBLISH, "只有本区域财政部门可以公开或撤回绩效信息。")

    @extend_schema(request=PublishSerializer, responses={201: DisclosureDetailSerializer})
    @action(detail=False, methods=["post"])
    def publish(self, request):
        self._require_publish(request)
        data = PublishSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        kind = data.validated_data["kind"]
        record = services.record_for(kind, data.validated_data["record"], user=request.user)
        if record is None:
            raise exceptions.NotFound("记录不存在或不在您的管理范围内。")
        disclosure = services.disclosure_publish(
            actor=request.user, kind=kind, record=record, report=data.validated_data.get("report")
        )
        return Response(DisclosureDetailSerializer(self.get_queryset().get(pk=disclosure.pk)).data, status=201)

    @extend_schema(request=WithdrawSerializer, responses=DisclosureDetailSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        self._require_publish(request)
        disclosure = Disclosure.objects.restrict(request.user, services.PUBLISH).filter(pk=pk).first()
        if disclosure is None:
            raise exceptions.NotFound("公开记录不存在或不在您的管理范围内。")
        data = WithdrawSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.disclosure_withdraw(
            actor=request.user, disclosure=disclosure, reason=data.validated_data["withdraw_reason"]
        )
        return Response(DisclosureDetailSerializer(self.get_queryset().get(pk=disclosure.pk)).data)


router.register("disclosures", DisclosureViewSet, basename="disclosure")
