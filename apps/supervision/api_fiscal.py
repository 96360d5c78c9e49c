"""API of the district fiscal-operation evaluation under /api/v1/ (namespace ``api``).

``fiscal-evaluations``: the city's evaluations with their indicator frame (list, read, create,
``open``, ``publish``) — a district finance office sees none of them. ``fiscal-submissions``: one
district's data; a district reads and writes only its own (``values``, ``submit``), the city reads
all and ``return``s or ``score``s them. A district sees its own scores only once published.
Scoped like the pages; writes go through ``services_fiscal``.
"""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.viewsets import GenericViewSet

from apps.core.api import ScopedViewSetMixin, require_action
from apps.orgs.models import FiscalYear

from . import selectors_fiscal as selectors
from . import services_fiscal as services
from . import services_fiscal_scoring as scoring
from .models import FiscalEvaluation, FiscalIndicator, FiscalSubmission, FiscalValue

router = SimpleRouter()


class FiscalIndicatorSerializer(serializers.ModelSerializer):
    class Meta:
        model = FiscalIndicator
        fields = ["id", "group", "sort_order", "name", "unit", "direction", "max_points", "guidance"]
        read_only_fields = fields


class FiscalEvaluationSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    indicators = FiscalIndicatorSerializer(many=True, read_only=True)

    class Meta:
        model = FiscalEvaluation
        fields = [
            "id", "fiscal_year", "title", "status", "due_on", "summary", "organization", "organization_name",
            "published_at", "created_at", "indicators",
        ]  # fmt: skip
        read_only_fields = fields


class FiscalEvaluationCreateSerializer(serializers.Serializer):
    fiscal_year = serializers.IntegerField(help_text="评价年度")
    title = serializers.CharField(max_length=200, allow_blank=True)
    due_on = serializers.DateField(required=False, allow_null=True, default=None, help_text="区市填报截止日期")


class FiscalIndicatorWriteSerializer(serializers.Serializer):
    group = serializers.CharField(max_length=50, allow_blank=True)
    name = serializers.CharField(max_length=100, allow_blank=True)
    unit = serializers.CharField(max_length=20, allow_blank=True, required=False, default="")
    direction = serializers.ChoiceField(choices=FiscalIndicator.Direction.choices)
    max_points = serializers.CharField(help_text="分值（大于0，不超过100）")
    guidance = serializers.CharField(allow_blank=True, required=False, default="")


class FiscalPublishSerializer(serializers.Serializer):
    summary = serializers.CharField(allow_blank=True, help_text="总体评价意见")


class FiscalValueSerializer(serializers.ModelSerializer):
    indicator_name = serializers.CharField(source="indicator.name", read_only=True)
    group = serializers.CharField(source="indicator.group", read_only=True)
    unit = serializers.CharField(source="indicator.unit", read_only=True)
    max_points = serializers.DecimalField(source="indicator.max_points", max_digits=7, decimal_places=2, read_only=True)

    class Meta:
        model = FiscalValue
        fields = [
            "indicator", "indicator_name", "group", "unit", "max_points", "value", "text_value", "note", "score",
            "comment",
        ]  # fmt: skip
        read_only_fields = fields


class FiscalSubmissionSerializer(serializers.ModelSerializer):
    evaluation_title = serializers.CharField(source="evaluation.title", read_only=True)
    fiscal_year = serializers.IntegerField(source="evaluation.fiscal_year_id", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    values = FiscalValueSerializer(many=True, read_only=True)

    class Meta:
        model = FiscalSubmission
        fields = [
            "id", "evaluation", "evaluation_title", "fiscal_year", "organization", "organization_name", "region_name",
            "status", "submitted_at", "return_comment", "comment", "total", "rank", "grade", "scored_at", "values",
        ]  # fmt: skip
        read_only_fields = fields

    RESULT_FIELDS = ("comment", "total", "rank", "grade", "scored_at")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        user = self.context["request"].user
        published = instance.evaluation.status == FiscalEvaluation.Status.PUBLISHED
        if not published and not selectors.is_city_reader(user):
            # a district learns its scores when the city publishes the results
            for key in self.RESULT_FIELDS:
                data[key] = None
            for row in data["values"]:
                row["score"], row["comment"] = None, ""
        return data


class FiscalValueEntrySerializer(serializers.Serializer):
    indicator = serializers.IntegerField()
    value = serializers.CharField(required=False, allow_blank=True, allow_null=True, default="", help_text="数值指标")
    text_value = serializers.CharField(required=False, allow_blank=True, default="", help_text="定性指标的情况说明")
    note = serializers.CharField(required=False, allow_blank=True, default="", help_text="数据说明（来源）")


class FiscalValuesSerializer(serializers.Serializer):
    values = FiscalValueEntrySerializer(many=True)


class FiscalReturnSerializer(serializers.Serializer):
    comment = serializers.CharField(allow_blank=True, help_text="退回意见")


class FiscalScoreEntrySerializer(serializers.Serializer):
    indicator = serializers.IntegerField()
    score = serializers.CharField(allow_blank=True, help_text="得分（0 至分值）")
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class FiscalScoreSerializer(serializers.Serializer):
    scores = FiscalScoreEntrySerializer(many=True)
    comment = serializers.CharField(required=False, allow_blank=True, default="", help_text="市财政局评价意见")
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="重新评分理由（已评分的区市再次评分时必填）"
    )


class FiscalRankRowSerializer(serializers.Serializer):
    submission = serializers.IntegerField(source="submission_id")
    region = serializers.CharField()
    organization_name = serializers.CharField(source="name")
    total = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True)
    rank = serializers.IntegerField(allow_null=True)
    grade = serializers.CharField(allow_blank=True)
    grade_label = serializers.CharField(allow_blank=True)
    group_points = serializers.ListField(
        source="groups", child=serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True)
    )


class FiscalRankingSerializer(serializers.Serializer):
    evaluation = serializers.IntegerField(source="evaluation.pk")
    title = serializers.CharField(source="evaluation.title")
    provisional = serializers.BooleanField(help_text="未发布时为暂定排名（仅市财政局可见）")
    groups = serializers.ListField(child=serializers.CharField())
    rows = FiscalRankRowSerializer(many=True)


class FiscalEvaluationViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """区市财政运行综合绩效评价（市财政局）。"""

    queryset = FiscalEvaluation.objects.all()
    serializer_class = FiscalEvaluationSerializer
    scope_action = "fiscal.view"

    def optimize(self, queryset):
        return (
            queryset.select_related("organization")
            .prefetch_related(Prefetch("indicators", queryset=FiscalIndicator.objects.order_by("sort_order", "id")))
            .order_by("-fiscal_year_id", "-id")
        )

    @extend_schema(request=FiscalEvaluationCreateSerializer, responses={201: FiscalEvaluationSerializer})
    def create(self, request):
        """新建评价（市财政局绩效管理处）：生成默认指标体系。"""
        require_action(request.user, "fiscal.manage", "只有市财政局绩效管理处可以组织评价。")
        payload = FiscalEvaluationCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        year = FiscalYear.objects.filter(pk=data.pop("fiscal_year")).first()
        if year is None:
            raise serializers.ValidationError({"fiscal_year": ["评价年度不存在。"]})
        evaluation = services.fiscal_evaluation_create(actor=request.user, fiscal_year=year, **data)
        return Response(self._read(evaluation.pk), status=status.HTTP_201_CREATED)

    def _read(self, pk):
        return FiscalEvaluationSerializer(self.get_queryset().get(pk=pk)).data

    @extend_schema(request=None, responses=FiscalEvaluationSerializer)
    @action(detail=True, methods=["post"])
    def open(self, request, pk=None):
        """启动区市填报：为每个区市财政局生成填报表。"""
        evaluation = services.fiscal_evaluation_open(actor=request.user, evaluation=self.get_object())
        return Response(self._read(evaluation.pk))

    @extend_schema(request=FiscalIndicatorWriteSerializer, responses={201: FiscalIndicatorSerializer})
    @action(detail=True, methods=["post"])
    def indicators(self, request, pk=None):
        """新增评价指标（草稿，或已启动但尚无区市录入数据时）。"""
        evaluation = self.get_object()
        require_action(request.user, "fiscal.manage", "只有市财政局绩效管理处可以调整指标体系。")
        payload = FiscalIndicatorWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        indicator = services.fiscal_indicator_add(actor=request.user, evaluation=evaluation, **payload.validated_data)
        return Response(FiscalIndicatorSerializer(indicator).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=FiscalIndicatorWriteSerializer, responses=FiscalIndicatorSerializer)
    @action(detail=True, methods=["patch", "delete"], url_path=r"indicators/(?P<indicator_id>\d+)")
    def indicator(self, request, pk=None, indicator_id=None):
        """修改（PATCH，只传要改的字段）或删除（DELETE）评价指标。"""
        evaluation = self.get_object()
        require_action(request.user, "fiscal.manage", "只有市财政局绩效管理处可以调整指标体系。")
        indicator = evaluation.indicators.filter(pk=indicator_id).first()
        if indicator is None:
            raise exceptions.NotFound("该评价没有这项指标。")
        if request.method == "DELETE":
            services.fiscal_indicator_delete(actor=request.user, indicator=indicator)
            return Response(status=status.HTTP_204_NO_CONTENT)
        payload = FiscalIndicatorWriteSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        indicator = services.fiscal_indicator_update(actor=request.user, indicator=indicator, **payload.validated_data)
        return Response(FiscalIndicatorSerializer(indicator).data)

    @extend_schema(responses=FiscalRankingSerializer)
    @action(detail=True, methods=["get"])
    def ranking(self, request, pk=None):
        """排名（名次、总分、等次、分类得分）：市财政局随时可查（发布前为暂定）；区市在发布后可查本区市参加的评价。"""
        evaluation = selectors.ranking_evaluation(user=request.user, pk=pk)
        return Response(FiscalRankingSerializer(selectors.ranking(evaluation)).data)

    @extend_schema(request=FiscalPublishSerializer, responses=FiscalEvaluationSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """发布评价结果：全部区市评分后计算名次和等次。"""
        evaluation = self.get_object()
        payload = FiscalPublishSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.fiscal_publish(actor=request.user, evaluation=evaluation, **payload.validated_data)
        return Response(self._read(evaluation.pk))


class FiscalSubmissionViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """区市财政运行数据填报：区市只见本区市的填报。"""

    queryset = FiscalSubmission.objects.all()
    serializer_class = FiscalSubmissionSerializer
    scope_action = "fiscal.view"
    filterset_fields = ["evaluation", "status"]

    def optimize(self, queryset):
        return (
            queryset.select_related("evaluation", "organization", "region")
            .prefetch_related(
                Prefetch(
                    "values",
                    queryset=FiscalValue.objects.select_related("indicator").order_by(
                        "indicator__sort_order", "indicator_id"
                    ),
                )
            )
            .order_by("-evaluation__fiscal_year_id", "evaluation_id", "region__sort_order", "id")
        )

    def _read(self, pk):
        return self.get_serializer(self.get_queryset().get(pk=pk)).data

    @extend_schema(request=FiscalValuesSerializer, responses=FiscalSubmissionSerializer)
    @action(detail=True, methods=["put", "post"])
    def values(self, request, pk=None):
        """保存本区市填报数据（区市财政局；填报中或已退回时）。一项有误则全部不保存。"""
        submission = self.get_object()
        require_action(request.user, "fiscal.fill", "只有区市财政局可以填报数据。")
        payload = FiscalValuesSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = {
            row["indicator"]: {"value": row["value"] or "", "text_value": row["text_value"], "note": row["note"]}
            for row in payload.validated_data["values"]
        }
        scoring.fiscal_values_save(actor=request.user, submission=submission, data=data)
        return Response(self._read(submission.pk))

    @extend_schema(request=None, responses=FiscalSubmissionSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """报送市财政局（全部指标填写后）。"""
        submission = scoring.fiscal_submit(actor=request.user, submission=self.get_object())
        return Response(self._read(submission.pk))

    @extend_schema(request=FiscalReturnSerializer, responses=FiscalSubmissionSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk=None):
        """退回区市修改（市财政局，须写明意见）。"""
        submission = self.get_object()
        require_action(request.user, "fiscal.manage", "只有市财政局绩效管理处可以退回。")
        payload = FiscalReturnSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        scoring.fiscal_return(actor=request.user, submission=submission, comment=payload.validated_data["comment"])
        return Response(self._read(submission.pk))

    @extend_schema(request=FiscalScoreSerializer, responses=FiscalSubmissionSerializer)
    @action(detail=True, methods=["post"])
    def score(self, request, pk=None):
        """评分（市财政局）：每项指标 0 至分值，可附评分意见。"""
        submission = self.get_object()
        require_action(request.user, "fiscal.manage", "只有市财政局绩效管理处可以评分。")
        payload = FiscalScoreSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        scores = {row["indicator"]: (row["score"], row["comment"]) for row in payload.validated_data["scores"]}
        scoring.fiscal_score(
            actor=request.user,
            submission=submission,
            scores=scores,
            comment=payload.validated_data["comment"],
            reason=payload.validated_data["reason"],
        )
        return Response(self._read(submission.pk))


router.register("fiscal-evaluations", FiscalEvaluationViewSet, basename="fiscal-evaluation")
router.register("fiscal-submissions", FiscalSubmissionViewSet, basename="fiscal-submission")
