"""The public JSON of 信息公开 at /public/api/disclosures/: no login, no session, read-only.

Only ``Disclosure.objects.public()`` rows and only snapshot fields (no user, no internal record ids
beyond the disclosure's own number, which is its public address).

Money is given twice: ``amount`` in 元 as stored ("8800000.00") and ``amount_wan`` in 万元 rounded to
two decimals ("880.00"), the unit the pages show; both are strings (exact decimals), null when the
record has no amount.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny

from apps.evaluations.models import Grade

from . import selectors_disclosure as selectors
from .models import Disclosure
from .views_public import PAGE_SIZE, public_filter_form

WAN, CENT = Decimal(10000), Decimal("0.01")


class PublicPagination(PageNumberPagination):
    page_size = PAGE_SIZE


class PublicDisclosureSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(
        read_only=True, help_text="target 绩效目标 | self_evaluation 自评结果 | key_evaluation 重点评价报告"
    )
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    grade_display = serializers.CharField(source="get_grade_display", read_only=True)
    fiscal_year = serializers.IntegerField(source="fiscal_year_id", read_only=True)
    region = serializers.CharField(source="region.name", read_only=True)
    region_code = serializers.CharField(source="region.code", read_only=True)
    department = serializers.CharField(source="department.name", read_only=True)
    amount = serializers.DecimalField(
        max_digits=18, decimal_places=2, read_only=True, allow_null=True, help_text="资金金额，单位：元（两位小数）"
    )
    amount_wan = serializers.SerializerMethodField(
        help_text="资金金额，单位：万元（两位小数，四舍五入），页面显示的单位"
    )
    url = serializers.SerializerMethodField()
    report_url = serializers.SerializerMethodField()

    class Meta:
        model = Disclosure
        fields = [
            "id",
            "kind",
            "kind_display",
            "title",
            "fiscal_year",
            "region",
            "region_code",
            "department",
            "amount",
            "amount_wan",
            "score",
            "grade",
            "grade_display",
            "published_at",
            "url",
            "report_url",
        ]
        read_only_fields = fields

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    @extend_schema_field(OpenApiTypes.DECIMAL)
    def get_amount_wan(self, obj) -> str | None:
        if obj.amount is None:
            return None
        return str((obj.amount / WAN).quantize(CENT, rounding=ROUND_HALF_UP))

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, obj) -> str:
        return self._absolute(reverse("public:disclosure_detail", args=[obj.pk]))

    @extend_schema_field(OpenApiTypes.URI)
    def get_report_url(self, obj) -> str | None:
        if not obj.report_id:
            return None
        return self._absolute(reverse("public:report_download", args=[obj.pk]))


class PublicDisclosureDetailSerializer(PublicDisclosureSerializer):
    content = serializers.JSONField(read_only=True, help_text="公开时冻结的公开内容（指标表、得分、问题与建议等）")

    class Meta(PublicDisclosureSerializer.Meta):
        fields = [*PublicDisclosureSerializer.Meta.fields, "content"]
        read_only_fields = fields


FILTER_PARAMETERS = [
    OpenApiParameter("q", str, description="关键词（标题、主管部门）"),
    OpenApiParameter("year", int, description="年度"),
    OpenApiParameter("region", str, description="区域行政区划代码，如 370202"),
    OpenApiParameter("department", int, description="主管部门编号（须同时指定区域）"),
    OpenApiParameter("kind", str, enum=Disclosure.Kind.values, description="公开类型"),
    OpenApiParameter("grade", str, enum=Grade.values, description="等级"),
]


class PublicMixin:
    authentication_classes: list = []  # no session, no token: the same answer for everyone
    permission_classes = [AllowAny]
    filter_backends: list = []


@extend_schema(tags=["public"], parameters=FILTER_PARAMETERS, summary="公开信息列表（无需登录）")
class PublicDisclosureList(PublicMixin, generics.ListAPIView):
    serializer_class = PublicDisclosureSerializer
    pagination_class = PublicPagination

    def get_queryset(self):
        return selectors.public_list(public_filter_form(self.request.query_params).filters())


@extend_schema(tags=["public"], summary="公开信息详情（无需登录）")
class PublicDisclosureDetail(PublicMixin, generics.RetrieveAPIView):
    serializer_class = PublicDisclosureDetailSerializer

    def get_queryset(self):
        return Disclosure.objects.public().select_related("region", "department")
