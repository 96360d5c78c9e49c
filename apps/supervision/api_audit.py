"""API of audit supervision under /api/v1/ (namespace ``api``): findings (list, read, record with
its rectification, 销号) and referrals (audit and finance leadership only; record and follow by the
auditor). Scoped like the pages; writes go through ``services_audit``. Amounts in 元."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.viewsets import GenericViewSet

from apps.core.api import ScopedViewSetMixin, require_action
from apps.orgs.models import FiscalYear, Organization

from . import services_audit as services
from .models import AuditCategory, AuditFinding, Referral

router = SimpleRouter()


class FindingSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    rectification_status = serializers.CharField(source="rectification.status", read_only=True, default=None)
    rectification_deadline = serializers.DateField(source="rectification.deadline", read_only=True, default=None)

    class Meta:
        model = AuditFinding
        fields = [
            "id", "organization", "organization_name", "fiscal_year", "fund", "source_audit", "category",
            "problem", "amount_involved", "found_on", "rectification", "rectification_status",
            "rectification_deadline", "status", "closed_at", "close_comment", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class FindingCreateSerializer(serializers.Serializer):
    organization = serializers.IntegerField(help_text="责任单位（预算部门或单位）编号")
    fiscal_year = serializers.IntegerField(help_text="所属年度")
    source_audit = serializers.CharField(max_length=200, allow_blank=True)
    category = serializers.ChoiceField(choices=AuditCategory.choices)
    problem = serializers.CharField(allow_blank=True)
    amount_involved = serializers.CharField(required=False, default="0", help_text="涉及金额（元）")
    found_on = serializers.DateField(required=False, allow_null=True)
    requirement = serializers.CharField(required=False, allow_blank=True, default="")
    deadline = serializers.DateField(help_text="整改期限")


class CloseSerializer(serializers.Serializer):
    comment = serializers.CharField(allow_blank=True, help_text="销号意见")


def _organization(user, pk) -> Organization | None:
    return Organization.objects.restrict(user, "org.view").filter(pk=pk).first()


class FindingViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    queryset = AuditFinding.objects.all()
    serializer_class = FindingSerializer
    scope_action = "finding.view"

    def optimize(self, queryset):
        return queryset.select_related("organization", "rectification").order_by("-found_on", "-id")

    @extend_schema(request=FindingCreateSerializer, responses={201: FindingSerializer})
    def create(self, request):
        """登记审计发现（审计部门）：同时向责任单位下达整改事项。"""
        require_action(request.user, "finding.manage", "只有审计部门可以登记审计发现。")
        payload = FindingCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        organization = _organization(request.user, data.pop("organization"))
        if organization is None:
            raise serializers.ValidationError({"organization": ["责任单位不存在或不在本区域。"]})
        year = FiscalYear.objects.filter(pk=data.pop("fiscal_year")).first()
        if year is None:
            raise serializers.ValidationError({"fiscal_year": ["所属年度不存在。"]})
        finding = services.finding_create(actor=request.user, organization=organization, fiscal_year=year, **data)
        return Response(FindingSerializer(finding).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CloseSerializer, responses=FindingSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """销号（审计部门）：整改经财政核实完成后。"""
        payload = CloseSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        finding = services.finding_close(actor=request.user, finding=self.get_object(), **payload.validated_data)
        return Response(FindingSerializer(finding).data)


class ReferralSerializer(serializers.ModelSerializer):
    subject_organization_name = serializers.CharField(source="subject_organization.name", read_only=True, default=None)

    class Meta:
        model = Referral
        fields = [
            "id", "referred_on", "subject", "subject_organization", "subject_organization_name", "finding",
            "summary", "status", "outcome", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ReferralCreateSerializer(serializers.Serializer):
    referred_on = serializers.DateField()
    subject = serializers.CharField(max_length=200, allow_blank=True)
    summary = serializers.CharField(allow_blank=True)
    subject_organization = serializers.IntegerField(required=False, allow_null=True)
    finding = serializers.IntegerField(required=False, allow_null=True)


class ReferralUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Referral.Status.choices)
    outcome = serializers.CharField(required=False, allow_blank=True, default="")


class ReferralViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """移送纪委监委线索：仅审计部门与财政局领导可见。"""

    queryset = Referral.objects.all()
    serializer_class = ReferralSerializer
    scope_action = "referral.view"

    def optimize(self, queryset):
        return queryset.select_related("subject_organization").order_by("-referred_on", "-id")

    @extend_schema(request=ReferralCreateSerializer, responses={201: ReferralSerializer})
    def create(self, request):
        require_action(request.user, "referral.manage", "只有审计部门可以登记移送线索。")
        payload = ReferralCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if data.get("subject_organization"):
            data["subject_organization"] = _organization(request.user, data["subject_organization"])
            if data["subject_organization"] is None:
                raise serializers.ValidationError({"subject_organization": ["涉及单位不存在。"]})
        if data.get("finding"):
            data["finding"] = (
                AuditFinding.objects.restrict(request.user, "finding.manage").filter(pk=data["finding"]).first()
            )
            if data["finding"] is None:
                raise serializers.ValidationError({"finding": ["关联的审计发现不存在。"]})
        referral = services.referral_create(actor=request.user, **data)
        return Response(ReferralSerializer(referral).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReferralUpdateSerializer, responses=ReferralSerializer)
    def partial_update(self, request, pk=None):
        """更新办理情况（审计部门）。"""
        payload = ReferralUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        referral = services.referral_update(actor=request.user, referral=self.get_object(), **payload.validated_data)
        return Response(ReferralSerializer(referral).data)


router.register("audit-findings", FindingViewSet, basename="audit-finding")
router.register("referrals", ReferralViewSet, basename="referral")
