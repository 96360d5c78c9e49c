"""API of 预算挂钩 under /api/v1/ (namespace ``api``): the rule table of the user's region per budget
year (read; finance replaces or resets it), the suggestion for funds (read), finance's decisions
(read) and the linkage report. Scoped like the pages; writes go through the same services. Amounts
in 元."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.viewsets import GenericViewSet, ViewSet

from apps.core.api import HasScopeAction, ScopedViewSetMixin
from apps.evaluations.models import Grade
from apps.funds.models import SpecialFund
from apps.orgs.models import FiscalYear

from . import selectors_linkage as sel
from . import services_linkage as services
from .models import BudgetDecision, Suggestion

router = SimpleRouter()

YEAR_PARAM = OpenApiParameter(
    "fiscal_year", int, description="预算年度（默认：当前年度的下一年度，若不存在则为当前年度）"
)


def _fiscal_year(request) -> FiscalYear:
    raw = request.query_params.get("fiscal_year")
    if raw in (None, "") and request.method == "POST" and hasattr(request.data, "get"):
        raw = request.data.get("fiscal_year")
    if raw not in (None, ""):
        try:
            return FiscalYear.objects.get(pk=int(raw))
        except (FiscalYear.DoesNotExist, TypeError, ValueError):
            raise ValidationError({"fiscal_year": "预算年度不存在。"}) from None
    current = FiscalYear.objects.filter(is_current=True).first()
    if current is None:
        raise ValidationError({"fiscal_year": "请指定预算年度。"})
    return FiscalYear.objects.filter(pk=current.pk + 1).first() or current


# --- rules -----------------------------------------------------------------------------------------


class LinkageRuleSerializer(serializers.Serializer):
    grade = serializers.ChoiceField(choices=Grade.choices)
    grade_display = serializers.CharField(read_only=True)
    suggestion = serializers.ChoiceField(choices=[c for c in Suggestion.choices if c[0] != Suggestion.NONE])
    suggestion_display = serializers.CharField(read_only=True)
    adjust_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    saved = serializers.BooleanField(read_only=True)


class LinkageRuleTableSerializer(serializers.Serializer):
    region = serializers.IntegerField(read_only=True)
    region_name = serializers.CharField(read_only=True)
    fiscal_year = serializers.IntegerField()
    rules = LinkageRuleSerializer(many=True)


def _table_data(region, year: FiscalYear) -> dict:
    table = sel.rules_table(region.pk, year.pk)
    return {
        "region": region.pk,
        "region_name": region.name,
        "fiscal_year": year.pk,
        "rules": [
            {
                "grade": r.grade,
                "grade_display": r.grade_label,
                "suggestion": r.suggestion,
                "suggestion_display": r.text,
                "adjust_percent": r.adjust_percent,
                "note": r.note,
                "saved": r.saved,
            }
            for r in (table[g] for g in sel.GRADE_ORDER)
        ],
    }


class LinkageRuleViewSet(ViewSet):
    """The rule table of the user's region for a budget year (defaults until finance saves it).
    ``POST`` replaces all four rows (finance of the region only); ``POST reset/`` restores the defaults."""

    permission_classes = [HasScopeAction]
    scope_action = "linkage.view"
    serializer_class = LinkageRuleTableSerializer

    def _region(self, request):
        if request.user.organization is None:
            raise NotFound("您的账号未分配所属机构。")
        return request.user.organization.region

    @extend_schema(parameters=[YEAR_PARAM], responses=LinkageRuleTableSerializer)
    def list(self, request):
        return Response(LinkageRuleTableSerializer(_table_data(self._region(request), _fiscal_year(request))).data)

    @extend_schema(request=LinkageRuleTableSerializer, responses=LinkageRuleTableSerializer)
    def create(self, request):
        payload = LinkageRuleTableSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        year = _fiscal_year(request)
        rows = {r["grade"]: r for r in payload.validated_data["rules"]}
        services.linkage_rules_save(actor=request.user, fiscal_year=year, rows=rows)
        return Response(LinkageRuleTableSerializer(_table_data(self._region(request), year)).data)

    @extend_schema(parameters=[YEAR_PARAM], request=None, responses=LinkageRuleTableSerializer)
    @action(detail=False, methods=["post"])
    def reset(self, request):
        year = _fiscal_year(request)
        services.linkage_rules_reset(actor=request.user, fiscal_year=year)
        return Response(LinkageRuleTableSerializer(_table_data(self._region(request), year)).data)


router.register("linkage/rules", LinkageRuleViewSet, basename="linkage-rule")


# --- suggestions -----------------------------------------------------------------------------------


class LinkageHistorySerializer(serializers.Serializer):
    year = serializers.IntegerField()
    fund_id = serializers.IntegerField()
    fund_code = serializers.CharField()
    grade = serializers.CharField()
    grade_display = serializers.CharField(source="grade_label")
    score = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    source = serializers.CharField()
    source_display = serializers.CharField(source="source_label")


class LinkageSuggestionSerializer(serializers.Serializer):
    fund = serializers.IntegerField(source="fund_id")
    last_grade = serializers.CharField(source="grade")
    last_grade_display = serializers.CharField(source="grade_label")
    suggestion = serializers.CharField()
    suggestion_display = serializers.CharField(source="suggestion_text")
    adjust_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    basis_fund = serializers.IntegerField(source="basis_fund_id", allow_null=True)
    base_amount = serializers.DecimalField(source="base", max_digits=18, decimal_places=2, allow_null=True)
    requested_amount = serializers.DecimalField(source="requested", max_digits=18, decimal_places=2)
    suggested_amount = serializers.DecimalField(source="suggested", max_digits=18, decimal_places=2)
    cycle_years = serializers.IntegerField(source="cycle")
    history = LinkageHistorySerializer(many=True)


class SuggestionRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    fiscal_year = serializers.IntegerField(source="fiscal_year_id")
    department = serializers.IntegerField(source="department_id")
    department_name = serializers.CharField(source="department.name")
    request_status = serializers.CharField()
    arranged_amount = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    linkage = LinkageSuggestionSerializer(read_only=True)


class LinkageSuggestionViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """The last grade(s), the suggestion and the suggested amount of funds (read). Filter by
    ``fiscal_year``, ``department``, ``request_status`` or ``fund`` (one id)."""

    queryset = SpecialFund.objects.all()
    serializer_class = SuggestionRowSerializer
    scope_action = "linkage.view"
    filterset_fields = ["fiscal_year", "department", "request_status"]
    search_fields = ["name", "code"]

    def optimize(self, queryset):
        fund = self.request.query_params.get("fund")
        if fund:
            if not fund.isdigit():
                raise ValidationError({"fund": "fund 应为专项资金编号（整数）。"})
            queryset = queryset.filter(pk=int(fund))
        return queryset.select_related("department").order_by("code", "pk")

    def _attach(self, funds):
        funds = list(funds)
        linkages = sel.linkage_for(funds)
        for fund in funds:
            fund.linkage = linkages[fund.pk]
        return funds

    @extend_schema(parameters=[OpenApiParameter("fund", int, description="只看这一个专项资金")])
    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = self._attach(page if page is not None else queryset)
        data = self.get_serializer(rows, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request, *args, **kwargs):
        fund = self._attach([self.get_object()])[0]
        return Response(self.get_serializer(fund).data)


router.register("linkage/suggestions", LinkageSuggestionViewSet, basename="linkage-suggestion")


# --- decisions -------------------------------------------------------------------------------------


class BudgetDecisionSerializer(serializers.ModelSerializer):
    fund_code = serializers.CharField(source="fund.code", read_only=True)
    fund_name = serializers.CharField(source="fund.name", read_only=True)
    fiscal_year = serializers.IntegerField(source="fund.fiscal_year_id", read_only=True)
    department = serializers.IntegerField(source="fund.department_id", read_only=True)
    department_name = serializers.CharField(source="fund.department.name", read_only=True)
    last_grade_display = serializers.CharField(source="get_last_grade_display", read_only=True)
    suggestion_display = serializers.CharField(source="get_suggestion_display", read_only=True)
    grade_source_display = serializers.CharField(source="get_grade_source_display", read_only=True)
    last_grade = serializers.CharField(read_only=True)  # one GradeEnum in the schema (see LinkageRuleSerializer)
    departs = serializers.BooleanField(read_only=True)
    decided_by_name = serializers.CharField(source="decided_by.display_name", read_only=True)

    class Meta:
        model = BudgetDecision
        fields = [
            "id", "fund", "fund_code", "fund_name", "fiscal_year", "department", "department_name", "basis_fund",
            "last_grade", "last_grade_display", "last_score", "grade_source", "grade_source_display", "suggestion",
            "suggestion_display", "adjust_percent", "base_amount", "requested_amount", "suggested_amount",
            "decided_amount", "departs", "reason", "decided_by", "decided_by_name", "decided_at",
        ]  # fmt: skip
        read_only_fields = fields


class BudgetDecisionViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """What finance arranged against the suggestion (read-only: decisions are made by 安排预算,
    ``POST /api/v1/funds/<id>/arrange/``)."""

    queryset = BudgetDecision.objects.all()
    serializer_class = BudgetDecisionSerializer
    scope_action = "linkage.view"
    filterset_fields = {"fund__fiscal_year": ["exact"], "fund__department": ["exact"], "suggestion": ["exact"]}

    def optimize(self, queryset):
        return queryset.select_related("fund__department", "decided_by").order_by("fund__code", "pk")


router.register("linkage/decisions", BudgetDecisionViewSet, basename="linkage-decision")


# --- report ----------------------------------------------------------------------------------------


class ReportLineSerializer(serializers.Serializer):
    fund = serializers.IntegerField(source="fund.pk")
    fund_code = serializers.CharField(source="fund.code")
    fund_name = serializers.CharField(source="fund.name")
    last_grade_display = serializers.CharField(source="grade_label")
    suggestion_display = serializers.CharField(source="suggestion_label")
    requested_amount = serializers.DecimalField(source="requested", max_digits=18, decimal_places=2)
    suggested_amount = serializers.DecimalField(source="suggested", max_digits=18, decimal_places=2)
    decided_amount = serializers.DecimalField(source="decided", max_digits=18, decimal_places=2, allow_null=True)
    departs = serializers.BooleanField()
    reason = serializers.SerializerMethodField()

    def get_reason(self, line) -> str:
        return line.decision.reason if line.decision is not None else ""


class ReportBlockSerializer(serializers.Serializer):
    department = serializers.IntegerField(source="department_id")
    department_name = serializers.CharField()
    lines = ReportLineSerializer(many=True)
    requested_amount = serializers.DecimalField(source="requested", max_digits=18, decimal_places=2)
    suggested_amount = serializers.DecimalField(source="suggested", max_digits=18, decimal_places=2)
    decided_amount = serializers.DecimalField(source="decided", max_digits=18, decimal_places=2)
    departures = serializers.IntegerField()


class ReportSerializer(serializers.Serializer):
    fiscal_year = serializers.IntegerField()
    departments = ReportBlockSerializer(source="blocks", many=True)
    count = serializers.IntegerField()
    requested_amount = serializers.DecimalField(source="requested", max_digits=18, decimal_places=2)
    suggested_amount = serializers.DecimalField(source="suggested", max_digits=18, decimal_places=2)
    decided_amount = serializers.DecimalField(source="decided", max_digits=18, decimal_places=2)
    departures = serializers.IntegerField()


class LinkageReportViewSet(ViewSet):
    """The linkage report of a budget year by department with subtotals and the total (元);
    finance sees its region, a department its own and its units' funds."""

    permission_classes = [HasScopeAction]
    scope_action = "linkage.view"
    serializer_class = ReportSerializer

    @extend_schema(
        parameters=[YEAR_PARAM, OpenApiParameter("department", int, description="主管部门")],
        responses=ReportSerializer,
    )
    def list(self, request):
        year = _fiscal_year(request)
        department = request.query_params.get("department") or None
        if department is not None and not department.isdigit():
            raise ValidationError({"department": "department 应为主管部门编号（整数）。"})
        report = sel.linkage_report(
            user=request.user, fiscal_year_id=year.pk, department_id=int(department) if department else None
        )
        return Response(ReportSerializer(report).data)


router.register("linkage/report", LinkageReportViewSet, basename="linkage-report")
