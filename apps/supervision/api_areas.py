"""API of the areas part of 监督考核 under /api/v1/ (namespace ``api``): the special-area summary
(专项领域) and one area's funds. Read-only, scoped like the pages (``restrict(user, "area.view")``,
through ``selectors_areas``). Amounts in 元.

* ``GET /api/v1/special-areas/?fiscal_year=2026`` — the area × region rows, each area's subtotal and
  the total (each fund once);
* ``GET /api/v1/special-areas/{area}/funds/?fiscal_year=2026&region=<id>`` — paginated.

An unknown area, year or region is a 400 with a Chinese message naming the parameter."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.viewsets import GenericViewSet

from apps.core import years
from apps.core.api import HasScopeAction
from apps.core.params import int_param
from apps.funds.models import SpecialFund
from apps.orgs.models import FiscalYear

from . import excel_areas
from . import selectors_areas as sel

router = SimpleRouter()

AREA_CHOICES = ", ".join(sel.AREAS)


class FiguresSerializer(serializers.Serializer):
    funds = serializers.IntegerField(help_text="项目数")
    budget = serializers.DecimalField(max_digits=20, decimal_places=2, help_text="预算金额（元，财政拨款+其他资金）")
    targets_filed = serializers.IntegerField(help_text="绩效目标已报送财政的项目数")
    targets_approved = serializers.IntegerField(help_text="绩效目标已批复的项目数")
    warnings = serializers.IntegerField(help_text="有偏差预警的监控报告数")
    grade_excellent = serializers.IntegerField(help_text="评价等级“优”的项目数")
    grade_good = serializers.IntegerField(help_text="评价等级“良”的项目数")
    grade_fair = serializers.IntegerField(help_text="评价等级“中”的项目数")
    grade_poor = serializers.IntegerField(help_text="评价等级“差”的项目数")
    ungraded = serializers.IntegerField(help_text="尚无评价等级的项目数")


class SummaryRowSerializer(FiguresSerializer):
    area = serializers.CharField()
    area_display = serializers.CharField()
    region = serializers.IntegerField()
    region_code = serializers.CharField()
    region_name = serializers.CharField()


class AreaTotalSerializer(FiguresSerializer):
    area = serializers.CharField()
    area_display = serializers.CharField()


SummarySerializer = inline_serializer(
    "SpecialAreaSummary",
    {
        "fiscal_year": serializers.IntegerField(),
        "rows": SummaryRowSerializer(many=True),
        "area_totals": AreaTotalSerializer(many=True),
        "total": FiguresSerializer(help_text="合计（同一项目不重复计算）"),
        "target_basis": serializers.CharField(),
        "warning_basis": serializers.CharField(),
        "grade_basis": serializers.CharField(),
    },
)


class AreaFundSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    is_classified = serializers.BooleanField(help_text="涉密")
    region = serializers.IntegerField(source="region_id")
    region_name = serializers.CharField(source="region.name")
    department = serializers.IntegerField(source="department_id")
    department_name = serializers.CharField(source="department.name")
    organization = serializers.IntegerField(source="organization_id")
    organization_name = serializers.CharField(source="organization.name")
    fiscal_amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    other_amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    budget = serializers.DecimalField(source="total_amount", max_digits=20, decimal_places=2)
    target_status = serializers.CharField(allow_null=True, help_text="最新版本绩效目标的状态")
    target_status_display = serializers.SerializerMethodField()
    target_filed = serializers.BooleanField()
    target_approved = serializers.BooleanField()
    warning_count = serializers.IntegerField(help_text="有偏差预警的监控报告数")
    grade = serializers.CharField(source="area_grade", help_text="计入汇总的评价等级（空：未评价）")
    grade_display = serializers.SerializerMethodField()
    grade_source = serializers.SerializerMethodField()

    def get_target_status_display(self, fund) -> str:
        return excel_areas.target_label(fund)

    def get_grade_display(self, fund) -> str:
        return sel.grade_label(fund.area_grade)

    def get_grade_source(self, fund) -> str:
        return excel_areas.grade_source(fund)


def _fiscal_year(request) -> int:
    raw = request.query_params.get("fiscal_year", "").strip()
    if not raw:
        selected = years.selected_year(request._request)
        if selected is None:
            raise serializers.ValidationError({"fiscal_year": ["尚未设置预算年度，请指定 fiscal_year。"]})
        return selected
    year = int_param(raw, low=1)
    if year is None or not FiscalYear.objects.filter(pk=year).exists():
        raise serializers.ValidationError({"fiscal_year": [f"预算年度“{raw[:20]}”不存在。"]})
    return year


def _area(slug: str) -> str:
    try:
        sel.area_of(slug)
    except sel.UnknownArea:
        raise serializers.ValidationError(
            {"area": [f"没有这个专项领域：“{slug[:30]}”。可选：{AREA_CHOICES}。"]}
        ) from None
    return slug


YEAR_PARAM = OpenApiParameter("fiscal_year", int, description="预算年度（默认当前年度）")


class SpecialAreaViewSet(GenericViewSet):
    """专项领域汇总（政府投资基金、PPP、政府采购、政府购买服务、政府债务）：按用户可查看的项目统计。"""

    permission_classes = [HasScopeAction]
    scope_action = sel.ACTION
    lookup_field = "area"
    lookup_value_regex = "[^/.]+"
    serializer_class = AreaFundSerializer
    filter_backends: list = []

    def get_queryset(self):
        # Only the browsable API asks for it (forms); the actions read through ``selectors_areas``.
        return SpecialFund.objects.restrict(self.request.user, sel.ACTION).none()

    @extend_schema(parameters=[YEAR_PARAM], responses=SummarySerializer)
    def list(self, request):
        """各专项领域 × 区域的项目数、预算金额、绩效目标、监控预警和评价等级。"""
        year = _fiscal_year(request)
        summary = sel.area_summary(user=request.user, fiscal_year=year)
        rows, area_totals = [], []
        for block in summary.areas:
            area = {"area": block.slug, "area_display": block.label}
            area_totals.append({**area, **block.total.as_dict()})
            for line in block.regions:
                region = {"region": line.region.pk, "region_code": line.region.code, "region_name": line.region.name}
                rows.append({**area, **region, **line.figures.as_dict()})
        data = {
            "fiscal_year": year,
            "rows": SummaryRowSerializer(rows, many=True).data,
            "area_totals": AreaTotalSerializer(area_totals, many=True).data,
            "total": FiguresSerializer(summary.total.as_dict()).data,
            "target_basis": sel.TARGET_BASIS,
            "warning_basis": sel.WARNING_BASIS,
            "grade_basis": sel.GRADE_BASIS,
        }
        return Response(data)

    @extend_schema(
        parameters=[
            OpenApiParameter("area", str, OpenApiParameter.PATH, enum=[*sel.AREAS], description="专项领域"),
            YEAR_PARAM,
            OpenApiParameter("region", int, description="区域编号（可选）"),
        ],
        responses=AreaFundSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def funds(self, request, area=None):
        """一个专项领域的项目明细（分页）。"""
        area = _area(area)
        year = _fiscal_year(request)
        region_id = None
        raw = request.query_params.get("region", "").strip()
        if raw:
            visible = {r.pk for r in sel.visible_regions(request.user)}
            region_id = int_param(raw, low=1)
            if region_id not in visible:
                raise serializers.ValidationError({"region": [f"区域“{raw[:20]}”不存在或不在您的查看范围内。"]})
        funds = sel.area_fund_list(user=request.user, fiscal_year=year, area=area, region_id=region_id)
        page = self.paginate_queryset(funds)
        return self.get_paginated_response(AreaFundSerializer(page, many=True).data)


router.register("special-areas", SpecialAreaViewSet, basename="special-area")
