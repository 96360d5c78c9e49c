"""API of the dashboards under /api/v1/: the same numbers as the pages, as JSON.

* ``GET /api/v1/dashboard/?region=<code>&year=<year>`` — the dashboard of a region (or, for a
  department role, of its own funds); another region out of the user's scope → 404.
* ``GET /api/v1/dashboard/compare/?year=<year>`` — the city comparison (``dashboard.compare``).
"""

from decimal import Decimal

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from apps.core.api import HasScopeAction
from apps.orgs.models import FiscalYear

from . import selectors_dashboard as sel


class DashboardColumnSerializer(serializers.Serializer):
    label = serializers.CharField()
    kind = serializers.CharField(help_text="text 文字 / int 个数 / pct 百分比 / wan 金额（元） / score 得分")


class DashboardPanelSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    note = serializers.CharField()
    columns = DashboardColumnSerializer(many=True)
    rows = serializers.ListField(
        child=serializers.ListField(child=serializers.JSONField()),
        help_text="与页面表格相同；金额为元（字符串形式的小数），百分比保留一位小数",
    )


class DashboardSerializer(serializers.Serializer):
    region = serializers.CharField(help_text="区域行政区划代码")
    region_name = serializers.CharField()
    year = serializers.IntegerField()
    department_mode = serializers.BooleanField(help_text="是否为部门（单位）本级看板")
    summary = serializers.DictField(child=serializers.JSONField())
    panels = DashboardPanelSerializer(many=True)


class DashboardCompareSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    panel = DashboardPanelSerializer()


YEAR = OpenApiParameter("year", OpenApiTypes.INT, description="预算年度（缺省为当前年度）")
REGION = OpenApiParameter("region", OpenApiTypes.STR, description="区域代码（仅市财政绩效管理处可选其他区域）")


def _year(request) -> int:
    raw = request.query_params.get("year", "").strip()
    if raw:
        if not raw.isdigit() or not FiscalYear.objects.filter(year=int(raw)).exists():
            raise Http404("没有这个预算年度。")
        return int(raw)
    current = FiscalYear.objects.filter(is_current=True).values_list("year", flat=True).first()
    if current is None:
        raise Http404("系统中还没有预算年度。")
    return current


def _plain(value):
    return str(value) if isinstance(value, Decimal) else value


class DashboardViewSet(viewsets.ViewSet):
    """分析看板的数据（与页面相同的口径和数字）。"""

    scope_action = sel.VIEW
    permission_classes = [HasScopeAction]

    @extend_schema(parameters=[REGION, YEAR], responses=DashboardSerializer)
    def list(self, request):
        scope = sel.resolve_scope(request.user, region_code=request.query_params.get("region", "").strip(),
                                  year=_year(request))  # fmt: skip
        data = sel.dashboard(request.user, scope)
        return Response(
            {
                "region": scope.region.code,
                "region_name": scope.region.name,
                "year": scope.year,
                "department_mode": scope.department_mode,
                "summary": {k: _plain(v) for k, v in data.summary.items()},
                "panels": [p.as_json() for p in data.panels],
            }
        )

    @extend_schema(parameters=[YEAR], responses=DashboardCompareSerializer)
    @action(detail=False, methods=["get"], scope_action=sel.COMPARE)
    def compare(self, request):
        year = _year(request)
        return Response({"year": year, "panel": sel.comparison(request.user, year=year).as_json()})


router = SimpleRouter()
router.register("dashboard", DashboardViewSet, basename="dashboard")
