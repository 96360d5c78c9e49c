"""重点评价 API: evaluation plans (with the 3-year coverage check) and key evaluations (with their
frame). Thin: rows come from ``restrict`` (an out-of-scope id is 404) and every write goes through
the same services as the pages, with the same Chinese messages."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.viewsets import GenericViewSet

from apps.core.api import ScopedViewSetMixin
from apps.orgs.models import FiscalYear, Organization

from . import key_selectors as selectors
from . import key_services, plans
from .coverage import plan_coverage
from .key_services import DIMENSIONS, LineEntry
from .models import EvaluationPlan, KeyEvaluation, KeyEvaluationExpert, KeyEvaluationLine

router = SimpleRouter()

SCORE = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True, allow_null=True)


# --- plans -----------------------------------------------------------------------------------


class EvaluationPlanSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    kind = serializers.CharField(read_only=True, help_text="finance 财政重点评价 | department 部门评价")
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    status = serializers.CharField(read_only=True, help_text="draft 编制中 | issued 已下达 | closed 已完成")
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    evaluation_count = serializers.IntegerField(read_only=True)
    fund_count = serializers.IntegerField(read_only=True, help_text="项目评价数")
    department_count = serializers.IntegerField(read_only=True, help_text="部门整体评价数")
    completed_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = EvaluationPlan
        fields = [
            "id", "organization", "organization_name", "fiscal_year", "kind", "kind_display", "name", "status",
            "status_display", "created_by", "created_at", "issued_at", "evaluation_count", "fund_count",
            "department_count", "completed_count",
        ]  # fmt: skip
        read_only_fields = fields


class PlanCloseSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=500, help_text="办结说明（可不填）"
    )


class PlanCreateSerializer(serializers.Serializer):
    fiscal_year = serializers.PrimaryKeyRelatedField(
        queryset=FiscalYear.objects.all(), help_text="被评价项目的预算年度（次年开展评价）"
    )
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    organization = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="评价主体；不填为本人所在财政局或部门"
    )


class FundListSerializer(serializers.Serializer):
    funds = serializers.ListField(child=serializers.IntegerField(), allow_empty=False, help_text="专项资金 id")


class FundsAddedSerializer(serializers.Serializer):
    added = serializers.IntegerField(help_text="本次新列入的项目数（已在计划中的不重复列入）")
    plan = EvaluationPlanSerializer()


class FundRefSerializer(serializers.Serializer):
    fund = serializers.IntegerField(help_text="专项资金 id")


class DepartmentRefSerializer(serializers.Serializer):
    department = serializers.IntegerField(help_text="预算部门 id")


class MissingFundSerializer(serializers.Serializer):
    fund = serializers.IntegerField(source="fund.pk")
    code = serializers.CharField(source="fund.code")
    name = serializers.CharField(source="fund.name")
    department = serializers.IntegerField(source="fund.department_id")
    department_name = serializers.CharField(source="fund.department_name")
    period_start = serializers.IntegerField(source="fund.period_start")
    tags = serializers.ListField(child=serializers.CharField(), source="fund.tags")
    years = serializers.IntegerField(help_text="未评价年数（含本年度）")
    last_evaluated = serializers.IntegerField(allow_null=True, help_text="上次评价的计划年度")


class TagCoverageSerializer(serializers.Serializer):
    tag = serializers.CharField()
    universe = serializers.IntegerField()
    planned = serializers.IntegerField()
    covered = serializers.IntegerField()


class CoverageSerializer(serializers.Serializer):
    fiscal_year = serializers.IntegerField()
    cycle_years = serializers.IntegerField(help_text="评价周期（年）")
    universe = serializers.IntegerField(help_text="应评项目数（范围内已批复绩效目标的项目）")
    planned = serializers.IntegerField(help_text="本计划已列入")
    required = serializers.IntegerField(help_text="每年至少（应评项目数 / 周期，向上取整）")
    share = serializers.DecimalField(max_digits=5, decimal_places=1, help_text="本年度列入占比（%）")
    meets_minimum = serializers.BooleanField()
    covered_earlier = serializers.IntegerField(help_text="前（周期−1）年同类计划已评价")
    covered = serializers.IntegerField(help_text="周期内已评价或本年列入")
    due = serializers.IntegerField(help_text="本周期到期的项目数")
    not_yet_due = serializers.IntegerField(help_text="实施期起始较晚、本周期尚未到期的项目数")
    missing = MissingFundSerializer(many=True, help_text="将错过评价周期的项目")
    by_tag = TagCoverageSerializer(many=True)


# --- key evaluations -------------------------------------------------------------------------


class KeyEvaluationLineSerializer(serializers.ModelSerializer):
    dimension = serializers.CharField(
        read_only=True, help_text="decision 决策 | process 过程 | output 产出 | effect 效益"
    )
    dimension_display = serializers.CharField(source="get_dimension_display", read_only=True)

    class Meta:
        model = KeyEvaluationLine
        fields = ["id", "dimension", "dimension_display", "sort_order", "name", "max_points", "points", "comment"]
        read_only_fields = fields


class KeyEvaluationExpertSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="expert.name", read_only=True)
    employer = serializers.CharField(source="expert.employer", read_only=True)

    class Meta:
        model = KeyEvaluationExpert
        fields = ["expert", "name", "employer", "assigned_at"]
        read_only_fields = fields


class KeyEvaluationSerializer(serializers.ModelSerializer):
    plan_name = serializers.CharField(source="plan.name", read_only=True)
    plan_kind = serializers.CharField(source="plan.kind", read_only=True, help_text="finance | department")
    evaluator = serializers.IntegerField(source="plan.organization_id", read_only=True)
    evaluator_name = serializers.CharField(source="plan.organization.name", read_only=True)
    fiscal_year = serializers.IntegerField(source="plan.fiscal_year_id", read_only=True)
    subject = serializers.CharField(read_only=True, help_text="fund 项目评价 | department 部门整体评价")
    fund_code = serializers.CharField(source="fund.code", read_only=True, default=None)
    fund_name = serializers.CharField(source="fund.name", read_only=True, default=None)
    department_name = serializers.CharField(source="department.name", read_only=True)
    status = serializers.CharField(read_only=True, help_text="planned | in_progress | submitted | completed")
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    agency_name = serializers.CharField(source="agency.name", read_only=True, default=None)
    score = SCORE
    grade = serializers.CharField(read_only=True, help_text="excellent 优 | good 良 | fair 中 | poor 差；未评分为空")
    grade_display = serializers.CharField(source="get_grade_display", read_only=True)
    lines = KeyEvaluationLineSerializer(many=True, read_only=True)
    experts = KeyEvaluationExpertSerializer(source="expert_assignments", many=True, read_only=True)

    class Meta:
        model = KeyEvaluation
        fields = [
            "id", "plan", "plan_name", "plan_kind", "evaluator", "evaluator_name", "fiscal_year", "subject", "fund",
            "fund_code", "fund_name", "department", "department_name", "target", "status", "status_display",
            "agency", "agency_name", "experts", "weight_decision", "weight_process", "weight_output", "weight_effect",
            "findings", "recommendations", "score", "grade", "grade_display", "status_changed_at", "completed_at",
            "lines",
        ]  # fmt: skip
        read_only_fields = fields


class WeightsSerializer(serializers.Serializer):
    """Weights as typed; checked by the service (sum 100, 产出 + 效益 ≥ the region's minimum)."""

    decision = serializers.CharField(help_text="决策权重")
    process = serializers.CharField(help_text="过程权重")
    output = serializers.CharField(help_text="产出权重")
    effect = serializers.CharField(help_text="效益权重")


class LineInputSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="已有指标行 id；新增不填")
    dimension = serializers.CharField(help_text="decision | process | output | effect")
    name = serializers.CharField(allow_blank=True)
    max_points = serializers.CharField(help_text="分值")
    points = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None, help_text="得分")
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class SaveLinesSerializer(serializers.Serializer):
    lines = LineInputSerializer(many=True, help_text="完整的指标体系：未列出的已有指标行将被删除")
    weights = WeightsSerializer(required=False, help_text="同时调整权重（可不填）")
    findings = serializers.CharField(required=False, allow_blank=True, help_text="主要问题")
    recommendations = serializers.CharField(required=False, allow_blank=True, help_text="意见建议")


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


def key_queryset(user):
    return selectors.key_list(user=user).prefetch_related(
        Prefetch("lines", queryset=KeyEvaluationLine.objects.order_by("sort_order", "pk")),
        Prefetch("expert_assignments", queryset=KeyEvaluationExpert.objects.select_related("expert")),
    )


class EvaluationPlanViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """重点评价计划 in scope: finance plans of the region, a department's own plans."""

    queryset = EvaluationPlan.objects.all()
    serializer_class = EvaluationPlanSerializer
    scope_action = "plan.view"
    filterset_fields = ["fiscal_year", "kind", "status", "organization"]
    search_fields = ["name"]

    def get_queryset(self):
        return selectors.plan_list(user=self.request.user)

    def _reply(self, plan, status=200):
        plan = self.get_queryset().get(pk=plan.pk)
        return Response(EvaluationPlanSerializer(plan).data, status=status)

    @extend_schema(request=PlanCreateSerializer, responses={201: EvaluationPlanSerializer})
    def create(self, request):
        """编制评价计划 (draft): the evaluator is the caller's finance bureau or department."""
        payload = PlanCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if data["organization"] is not None:
            evaluator = Organization.objects.restrict(request.user, "org.view").filter(pk=data["organization"]).first()
            if evaluator is None:
                raise exceptions.ValidationError({"organization": ["评价主体不存在或不在您的范围内。"]})
        else:
            evaluator = plans.evaluator_for(request.user)
            if evaluator is None:
                raise exceptions.PermissionDenied("只有财政部门或部门审核人可以编制重点评价计划。")
        plan = plans.plan_create(
            actor=request.user, organization=evaluator, fiscal_year=data["fiscal_year"], name=data["name"]
        )
        return self._reply(plan, status=201)

    @extend_schema(request=FundListSerializer, responses=FundsAddedSerializer)
    @action(detail=True, methods=["post"], url_path="add-funds")
    def add_funds(self, request, pk=None):
        """列入评价项目 {funds: [id…]} (draft plans; all or nothing)."""
        plan = self.get_object()
        payload = FundListSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        ids = set(payload.validated_data["funds"])
        funds = list(selectors.funds_in_plan_scope(request.user, ids))
        unknown = ids - {f.pk for f in funds}
        if unknown:
            listed = "、".join(str(i) for i in sorted(unknown))
            raise exceptions.ValidationError({"funds": [f"专项资金不存在或不在您的范围内：{listed}。"]})
        added = plans.plan_add_funds(actor=request.user, plan=plan, funds=funds)
        plan = self.get_queryset().get(pk=plan.pk)
        return Response({"added": added, "plan": EvaluationPlanSerializer(plan).data})

    @extend_schema(request=FundRefSerializer, responses=EvaluationPlanSerializer)
    @action(detail=True, methods=["post"], url_path="remove-fund")
    def remove_fund(self, request, pk=None):
        """移出评价项目 {fund} (draft plans, evaluation not started)."""
        plan = self.get_object()
        payload = FundRefSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        evaluation = plan.evaluations.select_related("fund").filter(fund_id=payload.validated_data["fund"]).first()
        if evaluation is None:
            raise exceptions.ValidationError({"fund": ["该项目不在本计划中。"]})
        plans.plan_remove_fund(actor=request.user, plan=plan, fund=evaluation.fund)
        return self._reply(plan)

    @extend_schema(request=DepartmentRefSerializer, responses={201: KeyEvaluationSerializer})
    @action(detail=True, methods=["post"], url_path="add-department")
    def add_department(self, request, pk=None):
        """列入部门整体评价 {department} (finance plans, draft)."""
        plan = self.get_object()
        payload = DepartmentRefSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        department = (
            Organization.objects.restrict(request.user, "org.view")
            .filter(pk=payload.validated_data["department"])
            .first()
        )
        if department is None:
            raise exceptions.ValidationError({"department": ["部门不存在或不在您的范围内。"]})
        evaluation = plans.plan_add_department(actor=request.user, plan=plan, department=department)
        evaluation = key_queryset(request.user).get(pk=evaluation.pk)
        return Response(KeyEvaluationSerializer(evaluation).data, status=201)

    @extend_schema(request=None, responses=EvaluationPlanSerializer)
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        """下达计划 (draft → issued)."""
        plan = plans.plan_issue(actor=request.user, plan=self.get_object())
        return self._reply(plan)

    @extend_schema(request=PlanCloseSerializer, responses=EvaluationPlanSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """办结计划 (issued → closed) {comment}: only when every evaluation in it is completed."""
        plan = self.get_object()
        payload = PlanCloseSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        plan = plans.plan_close(actor=request.user, plan=plan, comment=payload.validated_data["comment"])
        return self._reply(plan)

    @extend_schema(responses=CoverageSerializer)
    @action(detail=True, methods=["get"])
    def coverage(self, request, pk=None):
        """三年全覆盖检查: universe, planned, required per year, earlier coverage, funds that would miss."""
        return Response(CoverageSerializer(plan_coverage(self.get_object())).data)


class KeyEvaluationViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """重点评价 and 部门整体评价 in scope (evaluators, the evaluated department read-only, assigned
    agency staff and experts); scoring and the workflow call the pages' services."""

    queryset = KeyEvaluation.objects.all()
    serializer_class = KeyEvaluationSerializer
    scope_action = "evaluation.view"
    filterset_fields = ["plan", "status", "subject", "department", "fund", "plan__fiscal_year", "plan__kind"]
    search_fields = ["fund__name", "fund__code", "department__name"]

    def get_queryset(self):
        return key_queryset(self.request.user)

    def _reply(self, evaluation):
        return Response(KeyEvaluationSerializer(self.get_queryset().get(pk=evaluation.pk)).data)

    @extend_schema(request=WeightsSerializer, responses=KeyEvaluationSerializer)
    @action(detail=True, methods=["post"], url_path="set-weights")
    def set_weights(self, request, pk=None):
        """调整权重 {decision, process, output, effect}; the lines are scaled to the new weights."""
        evaluation = self.get_object()
        payload = WeightsSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        evaluation = key_services.evaluation_set_weights(
            actor=request.user, evaluation=evaluation, weights=payload.validated_data
        )
        return self._reply(evaluation)

    @extend_schema(request=SaveLinesSerializer, responses=KeyEvaluationSerializer)
    @action(detail=True, methods=["post"], url_path="save-lines")
    def save_lines(self, request, pk=None):
        """保存指标与评分: the full list of lines (all or nothing), optionally weights and findings."""
        evaluation = self.get_object()
        payload = SaveLinesSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        evaluation = key_services.evaluation_save(
            actor=request.user,
            evaluation=evaluation,
            lines=[LineEntry(**row) for row in data["lines"]],
            weights={d: data["weights"][d] for d in DIMENSIONS} if "weights" in data else None,
            findings=data.get("findings"),
            recommendations=data.get("recommendations"),
        )
        return self._reply(evaluation)

    def _step(self, name):
        payload = CommentSerializer(data=self.request.data)
        payload.is_valid(raise_exception=True)
        evaluation = key_services.evaluation_transition(
            actor=self.request.user,
            evaluation=self.get_object(),
            name=name,
            comment=payload.validated_data["comment"],
        )
        return self._reply(evaluation)

    @extend_schema(request=CommentSerializer, responses=KeyEvaluationSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """开始评价 (planned → in_progress; the plan must be issued)."""
        return self._step("start")

    @extend_schema(request=CommentSerializer, responses=KeyEvaluationSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """提交评价结果 (every line scored, frame consistent, findings written)."""
        return self._step("submit")

    @extend_schema(request=CommentSerializer, responses=KeyEvaluationSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """审定 (the report must be attached)."""
        return self._step("complete")

    @extend_schema(request=CommentSerializer, responses=KeyEvaluationSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_evaluation(self, request, pk=None):
        """退回修改 (comment required)."""
        return self._step("return")


router.register("evaluation-plans", EvaluationPlanViewSet, basename="evaluation-plan")
router.register("key-evaluations", KeyEvaluationViewSet, basename="key-evaluation")
