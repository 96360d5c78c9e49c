"""单位自评 API: rounds (open, close) and self-evaluations (with lines and the full score breakdown,
save, live preview, the workflow steps, finance's adjustment).

Thin like the monitoring API: rows come from ``restrict`` (an out-of-scope id is 404, a role
without the action 403), reads from ``selectors`` and every write from ``services``, so the API
refuses exactly what the pages refuse, with the same Chinese messages (400 keyed by field:
``executed_amount``, ``line-<id>-actual_value``, ``new_score``, ``reason``, ``comment`` …).
"""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.viewsets import GenericViewSet

from apps.core import permissions
from apps.core.api import ScopedViewSetMixin, require_action
from apps.orgs.models import FiscalYear

from . import scoring, selectors, services
from .forms import saved_values
from .models import Grade, SelfEvaluation, SelfEvaluationAdjustment, SelfEvaluationLine, SelfEvaluationRound

router = SimpleRouter()


def _points(**kwargs) -> serializers.DecimalField:
    """Points as computed (exact to 4 places); a new field each time (DRF binds a field to one name)."""
    return serializers.DecimalField(max_digits=9, decimal_places=4, read_only=True, **kwargs)


PERCENT = serializers.DecimalField(max_digits=9, decimal_places=2, allow_null=True)


# --- rounds ------------------------------------------------------------------------------------


class SelfEvaluationRoundSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    status = serializers.CharField(read_only=True, help_text="open 进行中 | closed 已结束")
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    evaluation_count = serializers.IntegerField(read_only=True, help_text="您可见的自评任务数")
    submitted_count = serializers.IntegerField(read_only=True, help_text="其中已报送财政（含已审核）的数量")
    confirmed_count = serializers.IntegerField(read_only=True, help_text="其中财政已审核的数量")

    class Meta:
        model = SelfEvaluationRound
        fields = [
            "id", "organization", "organization_name", "fiscal_year", "name", "due_on", "status", "status_display",
            "opened_at", "evaluation_count", "submitted_count", "confirmed_count",
        ]  # fmt: skip
        read_only_fields = fields


class SelfEvaluationRoundOpenSerializer(serializers.Serializer):
    """Open (or re-open: idempotent) the self-evaluation of the caller's region for an ended year."""

    fiscal_year = serializers.PrimaryKeyRelatedField(queryset=FiscalYear.objects.all(), help_text="评价年度")
    due_on = serializers.DateField(help_text="报送截止日期")
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)


class SelfEvaluationRoundOpenedSerializer(serializers.Serializer):
    round = SelfEvaluationRoundSerializer()
    created = serializers.IntegerField(help_text="本次新建的自评任务数")


class SelfEvaluationRoundViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """Self-evaluation rounds of the user's region; the counts are of the evaluations the user may see."""

    queryset = SelfEvaluationRound.objects.all()
    serializer_class = SelfEvaluationRoundSerializer
    scope_action = "selfeval.round"
    filterset_fields = ["fiscal_year", "status", "organization"]

    def get_queryset(self):
        return selectors.round_list(user=self.request.user)

    def _reply(self, round_, status=200, created=None):
        data = SelfEvaluationRoundSerializer(self.get_queryset().get(pk=round_.pk)).data
        return Response(data if created is None else {"round": data, "created": created}, status=status)

    @extend_schema(request=SelfEvaluationRoundOpenSerializer, responses={201: SelfEvaluationRoundOpenedSerializer})
    def create(self, request):
        """开启单位自评 (region finance, after the year has ended): creates the missing tasks."""
        payload = SelfEvaluationRoundOpenSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        bureau = selectors.finance_bureau_of(request.user)
        if bureau is None or not permissions.has_action(request.user, "selfeval.manage"):
            raise exceptions.PermissionDenied("只有区域财政部门可以开启单位自评。")
        round_, made = services.round_open(
            actor=request.user, organization=bureau, fiscal_year=data.pop("fiscal_year"), **data
        )
        return self._reply(round_, status=201, created=made)

    @extend_schema(request=None, responses=SelfEvaluationRoundSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """结束自评批次 (region finance)."""
        round_ = services.round_close(actor=request.user, round_=self.get_object())
        return self._reply(round_)


# --- self-evaluations ---------------------------------------------------------------------------


class SelfEvaluationLineSerializer(serializers.ModelSerializer):
    indicator_name = serializers.CharField(source="indicator.name", read_only=True)
    level1 = serializers.CharField(source="indicator.level1", read_only=True)
    level1_display = serializers.CharField(source="indicator.get_level1_display", read_only=True)
    level2_display = serializers.CharField(source="indicator.get_level2_display", read_only=True)
    comparison = serializers.CharField(
        source="indicator.comparison", read_only=True, help_text="ge | le | eq | qualitative"
    )
    target_value = serializers.DecimalField(
        source="indicator.target_value", max_digits=18, decimal_places=4, read_only=True, allow_null=True
    )
    target_text = serializers.CharField(source="indicator.target_text", read_only=True)
    unit = serializers.CharField(source="indicator.unit", read_only=True)
    weight = serializers.DecimalField(source="indicator.weight", max_digits=6, decimal_places=2, read_only=True)
    value_display = serializers.CharField(source="indicator.value_display", read_only=True)
    band = serializers.CharField(read_only=True, help_text="achieved 达成 | partial 部分达成 | not_achieved 未达成")
    band_display = serializers.CharField(source="get_band_display", read_only=True)

    class Meta:
        model = SelfEvaluationLine
        fields = [
            "id", "indicator", "indicator_name", "level1", "level1_display", "level2_display", "comparison",
            "target_value", "target_text", "unit", "weight", "value_display", "actual_value", "actual_text", "band",
            "band_display", "band_percent", "shortfall_reason", "improvement_measure", "points",
        ]  # fmt: skip
        read_only_fields = fields


class ScoreCategorySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="execution | output | effect | satisfaction")
    label = serializers.CharField()
    weight = _points()
    points = _points()
    note = serializers.CharField()


class ScoreLineSerializer(serializers.Serializer):
    line = serializers.SerializerMethodField(help_text="自评指标行 id；预算执行率为 null")
    category = serializers.CharField()
    name = serializers.CharField()
    max_points = _points()
    points = _points()
    formula = serializers.CharField()
    loss_reason = serializers.CharField(help_text="扣分原因，满分时为空")
    missing = serializers.BooleanField(help_text="未填写实际完成情况（得 0 分，且不能提交）")
    lost = serializers.BooleanField(help_text="未得满分")

    def get_line(self, obj) -> int | None:
        return None if obj.key == scoring.EXECUTION else obj.key


class ScoreResultSerializer(serializers.Serializer):
    total = serializers.DecimalField(max_digits=5, decimal_places=2, help_text="总分（保留两位小数）")
    grade = serializers.CharField(help_text="excellent 优 | good 良 | fair 中 | poor 差")
    grade_display = serializers.CharField(source="grade_label")
    complete = serializers.BooleanField(help_text="每项都已填写实际完成情况")
    missing = serializers.ListField(child=serializers.CharField(), help_text="未填写的项目")
    categories = ScoreCategorySerializer(many=True)
    lines = ScoreLineSerializer(many=True)


class SelfEvaluationAdjustmentSerializer(serializers.ModelSerializer):
    adjusted_by_name = serializers.CharField(source="adjusted_by.display_name", read_only=True)
    new_grade = serializers.CharField(read_only=True)
    new_grade_display = serializers.CharField(source="get_new_grade_display", read_only=True)

    class Meta:
        model = SelfEvaluationAdjustment
        fields = [
            "id", "previous_score", "new_score", "new_grade", "new_grade_display", "reason", "adjusted_by",
            "adjusted_by_name", "adjusted_at",
        ]  # fmt: skip
        read_only_fields = fields


class SelfEvaluationSerializer(serializers.ModelSerializer):
    round_name = serializers.CharField(source="round.name", read_only=True)
    fiscal_year = serializers.IntegerField(source="round.fiscal_year_id", read_only=True)
    due_on = serializers.DateField(source="round.due_on", read_only=True)
    fund_code = serializers.CharField(source="fund.code", read_only=True)
    fund_name = serializers.CharField(source="fund.name", read_only=True)
    department = serializers.IntegerField(source="fund.department_id", read_only=True)
    department_name = serializers.CharField(source="fund.department.name", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    status = serializers.CharField(
        read_only=True,
        help_text="draft 待填报 | dept_review 待部门审核 | submitted 待财政审核 | confirmed 已审核 | returned 已退回",
    )
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    execution_rate = serializers.SerializerMethodField(help_text="预算执行率（%），未填执行数时为 null")
    grade = serializers.CharField(
        read_only=True, help_text="系统计算的等级：excellent | good | fair | poor，未评分为空"
    )
    grade_display = serializers.CharField(source="get_grade_display", read_only=True)
    adjusted_grade = serializers.CharField(read_only=True, help_text="财政调整后的等级，未调整为空")
    final_score = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text="最终得分：财政调整后得分，未调整时为自评得分",
    )
    final_grade = serializers.CharField(read_only=True)
    final_grade_display = serializers.CharField(read_only=True)

    class Meta:
        model = SelfEvaluation
        fields = [
            "id", "round", "round_name", "fiscal_year", "due_on", "fund", "fund_code", "fund_name", "department",
            "department_name", "organization", "organization_name", "target", "status", "status_display",
            "budget_amount", "executed_amount", "execution_rate", "score", "grade", "grade_display", "adjusted_score",
            "adjusted_grade", "final_score", "final_grade", "final_grade_display", "return_comment",
            "status_changed_at", "submitted_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(PERCENT)
    def get_execution_rate(self, obj) -> str | None:
        rate = selectors.execution_rate(obj)
        return None if rate is None else PERCENT.to_representation(rate)


class SelfEvaluationDetailSerializer(SelfEvaluationSerializer):
    """One evaluation with its lines, the full score breakdown (scoring.Result), what still blocks
    sending it, finance's adjustments and the steps the caller may take now.

    The view computes ``result`` and ``problems`` once and puts them in the context."""

    lines = SelfEvaluationLineSerializer(many=True, read_only=True)
    breakdown = serializers.SerializerMethodField(help_text="得分明细：按类别和指标的分值、得分、计算方法、扣分原因")
    scoring_error = serializers.SerializerMethodField(help_text="无法计分时的原因")
    problems = serializers.SerializerMethodField(help_text="提交部门审核前还须完成的事项")
    adjustments = SelfEvaluationAdjustmentSerializer(many=True, read_only=True)
    available_transitions = serializers.SerializerMethodField(
        help_text="当前用户现在可执行的流转：send | submit | dept_return | confirm | return"
    )

    class Meta(SelfEvaluationSerializer.Meta):
        fields = [
            *SelfEvaluationSerializer.Meta.fields, "execution_reason", "execution_measure", "summary", "lines",
            "breakdown", "scoring_error", "problems", "adjustments", "available_transitions",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(ScoreResultSerializer(allow_null=True))
    def get_breakdown(self, obj) -> dict | None:
        result = self.context.get("result")
        return None if result is None else ScoreResultSerializer(result).data

    def get_scoring_error(self, obj) -> str:
        return self.context.get("scoring_error", "")

    def get_problems(self, obj) -> list[str]:
        return self.context.get("problems", [])

    def get_available_transitions(self, obj) -> list[str]:
        return [t.name for t in services.SELF_FLOW.available(obj, self.context["request"].user)]


class SelfEvaluationLineInputSerializer(serializers.Serializer):
    """One line as typed; numbers are checked by the service (Chinese messages naming the
    indicator). With PATCH (and preview), keys left out keep their saved values."""

    actual_value = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, help_text="定量指标的实际完成值"
    )
    actual_text = serializers.CharField(required=False, allow_blank=True, help_text="定性指标的实际完成情况")
    band = serializers.CharField(required=False, allow_blank=True, help_text="achieved | partial | not_achieved")
    band_percent = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, help_text="区间内的得分比例（%）"
    )
    shortfall_reason = serializers.CharField(required=False, allow_blank=True)
    improvement_measure = serializers.CharField(required=False, allow_blank=True)


class SelfEvaluationSaveSerializer(serializers.Serializer):
    executed_amount = serializers.CharField(
        allow_null=True, allow_blank=True, help_text="全年实际执行数（元）；为空表示未填写"
    )
    execution_reason = serializers.CharField(required=False, allow_blank=True, help_text="执行偏差原因")
    execution_measure = serializers.CharField(required=False, allow_blank=True, help_text="执行改进措施")
    summary = serializers.CharField(required=False, allow_blank=True, help_text="总体完成情况")
    lines = serializers.DictField(
        child=SelfEvaluationLineInputSerializer(), required=False, help_text="{自评指标行 id: {...}}；未列出的行不变"
    )

    def validate_lines(self, value):
        try:
            return {int(key): dict(row) for key, row in value.items()}
        except ValueError:
            raise serializers.ValidationError("指标行 id 应为整数。") from None


class SelfEvaluationPreviewSerializer(serializers.Serializer):
    breakdown = ScoreResultSerializer(allow_null=True)
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), help_text="有误的输入（按字段），暂按未填写计分"
    )
    problems = serializers.ListField(child=serializers.CharField(), help_text="提交部门审核前还须完成的事项")


class SelfEvaluationCommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class SelfEvaluationAdjustSerializer(serializers.Serializer):
    new_score = serializers.CharField(allow_blank=True, help_text="调整后得分（0–100，最多两位小数）")
    reason = serializers.CharField(allow_blank=True, help_text="调整理由（必填）")


class SelfEvaluationFilter(django_filters.FilterSet):
    fiscal_year = django_filters.NumberFilter(field_name="round__fiscal_year", label="评价年度")
    department = django_filters.NumberFilter(field_name="fund__department", label="主管部门 id")
    status = django_filters.ChoiceFilter(choices=SelfEvaluation.Status.choices, label="状态")
    grade = django_filters.ChoiceFilter(
        choices=[*Grade.choices, ("none", "未评分")], method="filter_grade", label="最终等级（含财政调整）"
    )

    class Meta:
        model = SelfEvaluation
        fields = ["round", "fund", "organization"]

    def filter_grade(self, queryset, name, value):
        if value == "none":
            return queryset.filter(grade="", adjusted_grade="")
        return queryset.filter(selectors.final_grade_q(value))


def _entries(evaluation: SelfEvaluation, lines: list[SelfEvaluationLine], rows: dict, partial: bool):
    """``Entry`` per listed line; with ``partial`` the keys not sent keep their saved values."""
    by_pk = {line.pk: line for line in lines}
    entries = {}
    for pk, row in rows.items():
        base = saved_values(by_pk[pk]) if partial and pk in by_pk else {}
        merged = {**base, **{k: "" if v is None else v for k, v in row.items()}}
        entries[pk] = services.Entry(**merged)
    return entries


class SelfEvaluationViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """Self-evaluations in scope. Saving, preview, the workflow steps and the adjustment call the
    pages' services."""

    queryset = SelfEvaluation.objects.all()
    serializer_class = SelfEvaluationSerializer
    scope_action = "selfeval.view"
    filterset_class = SelfEvaluationFilter
    search_fields = ["fund__name", "fund__code"]
    ordering_fields = ["score", "updated_at"]

    def get_queryset(self):
        return selectors.evaluation_list(user=self.request.user).select_related("round__organization")

    def _detail(self, evaluation: SelfEvaluation) -> Response:
        evaluation = (
            self.get_queryset()
            .prefetch_related(
                Prefetch(
                    "lines",
                    queryset=SelfEvaluationLine.objects.select_related("indicator").order_by(
                        "indicator__sort_order", "indicator_id"
                    ),
                ),
                Prefetch("adjustments", queryset=SelfEvaluationAdjustment.objects.select_related("adjusted_by")),
            )
            .get(pk=evaluation.pk)
        )
        lines = list(evaluation.lines.all())
        context = {**self.get_serializer_context(), "problems": []}
        try:
            result = services.compute(evaluation, lines)
        except scoring.ScoringError as exc:
            context.update(result=None, scoring_error=str(exc))
        else:
            context["result"] = result
            if evaluation.status in services.EDITABLE:
                context["problems"] = services.submission_problems(evaluation, lines, result)
        return Response(SelfEvaluationDetailSerializer(evaluation, context=context).data)

    @extend_schema(responses=SelfEvaluationDetailSerializer)
    def retrieve(self, request, *args, **kwargs):
        return self._detail(self.get_object())

    def _fill_input(self, request, evaluation, partial: bool) -> dict:
        payload = SelfEvaluationSaveSerializer(data=request.data, partial=partial)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        lines = selectors.evaluation_lines(evaluation)
        known = {line.pk for line in lines}
        unknown = sorted(set(data.get("lines", {})) - known)
        if unknown:
            listed = "、".join(str(pk) for pk in unknown)
            raise exceptions.ValidationError({"lines": [f"指标行不属于该自评表：{listed}。"]})

        def keep(name, default=""):
            return data.get(name, getattr(evaluation, name) if partial else default)

        return {
            "lines": lines,
            "executed_amount": data.get("executed_amount", evaluation.executed_amount if partial else None),
            "entries": _entries(evaluation, lines, data.get("lines", {}), partial),
            "execution_reason": keep("execution_reason"),
            "execution_measure": keep("execution_measure"),
            "summary": keep("summary"),
        }

    @extend_schema(request=SelfEvaluationSaveSerializer, responses=SelfEvaluationDetailSerializer)
    def update(self, request, *args, partial=False, **kwargs):
        """填报: executed amount (yuan), reasons, summary and ``lines`` {line id: {...}}; all or nothing.

        Incomplete work may be saved (only sending needs every value). PUT takes each listed line
        as given (a key left out is blank); PATCH keeps whatever is left out."""
        evaluation = self.get_object()
        data = self._fill_input(request, evaluation, partial)
        data.pop("lines")
        try:
            services.evaluation_save(actor=request.user, evaluation=evaluation, **data)
        except scoring.ScoringError as exc:  # the target itself cannot be scored (e.g. no target value)
            raise exceptions.ValidationError({"non_field_errors": [str(exc)]}) from None
        return self._detail(evaluation)

    @extend_schema(request=SelfEvaluationSaveSerializer, responses=SelfEvaluationDetailSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(request=SelfEvaluationSaveSerializer, responses=SelfEvaluationPreviewSerializer)
    @action(detail=True, methods=["post"])
    def preview(self, request, pk=None):
        """实时计分: the breakdown the values would give (unsent keys keep their saved values). Nothing is saved."""
        evaluation = self.get_object()
        if not permissions.can(request.user, "selfeval.fill", evaluation):
            raise exceptions.PermissionDenied("您无权填报该单位自评。")
        data = self._fill_input(request, evaluation, partial=True)
        data.pop("summary")
        preview = services.evaluation_preview(evaluation=evaluation, **data)
        body = {
            "breakdown": None if preview.result is None else ScoreResultSerializer(preview.result).data,
            "errors": preview.errors,
            "problems": preview.problems,
        }
        return Response(body)

    def _step(self, name):
        payload = SelfEvaluationCommentSerializer(data=self.request.data)
        payload.is_valid(raise_exception=True)
        evaluation = services.evaluation_transition(
            actor=self.request.user, evaluation=self.get_object(), name=name, comment=payload.validated_data["comment"]
        )
        return self._detail(evaluation)

    @extend_schema(request=SelfEvaluationCommentSerializer, responses=SelfEvaluationDetailSerializer)
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """提交部门审核 (unit): refused while a value, or a reason and measure for a shortfall, is missing."""
        return self._step("send")

    @extend_schema(request=SelfEvaluationCommentSerializer, responses=SelfEvaluationDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """部门审核通过并报送财政 (department approver)."""
        return self._step("submit")

    @extend_schema(request=SelfEvaluationCommentSerializer, responses=SelfEvaluationDetailSerializer)
    @action(detail=True, methods=["post"])
    def dept_return(self, request, pk=None):
        """部门退回 (comment required)."""
        return self._step("dept_return")

    @extend_schema(request=SelfEvaluationCommentSerializer, responses=SelfEvaluationDetailSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """财政审核确认."""
        return self._step("confirm")

    @extend_schema(request=SelfEvaluationCommentSerializer, responses=SelfEvaluationDetailSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_evaluation(self, request, pk=None):
        """财政退回 (comment required; clears a score adjustment, which stays on record)."""
        return self._step("return")

    @extend_schema(request=SelfEvaluationAdjustSerializer, responses=SelfEvaluationDetailSerializer)
    @action(detail=True, methods=["post"])
    def adjust(self, request, pk=None):
        """财政调整得分 {new_score, reason}: the computed score is kept, the adjustment recorded."""
        require_action(request.user, "selfeval.adjust", "您的角色无权调整自评得分。")
        payload = SelfEvaluationAdjustSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        evaluation = self.get_object()
        services.evaluation_adjust(actor=request.user, evaluation=evaluation, **payload.validated_data)
        return self._detail(evaluation)


router.register("self-evaluation-rounds", SelfEvaluationRoundViewSet, basename="self-evaluation-round")
router.register("self-evaluations", SelfEvaluationViewSet, basename="self-evaluation")
