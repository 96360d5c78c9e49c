"""API of the assessment part of 监督考核 under /api/v1/ (namespace ``api``).

* ``annual-assessments/`` (``assessments/`` is 事前绩效评估): list and read the sheets the user may
  see (with items and, on read, the ranking), create one (finance), ``{id}/compute/`` (→ the job),
  ``{id}/publish/``, ``{id}/withdraw/``; ``{id}/items/`` (GET, POST) and ``{id}/items/{item_id}/``
  (PATCH, DELETE) configure the items (finance, while 草稿/待审定);
* ``assessment-bodies/``: the breakdowns the user may open (a department only its own), with lines
  and the basis of each computed line;
* ``assessment-lines/{id}/adjust/``: finance adjusts a line (or scores a hand-scored item).

Visibility is ``selectors_assessment``'s rule, the same as the pages'; writes go through the engine
(``services_assessment``) and the review service. A role that may never write gets 403 before its
payload is read; an invisible row is 404."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.viewsets import GenericViewSet

from apps.core.api import HasScopeAction, require_action
from apps.core.params import int_param

from . import selectors_assessment as selectors
from . import services_assessment as engine
from . import services_assessment_review as review
from .models import AnnualAssessment, AssessedBody, AssessmentItem, AssessmentKind, AssessmentLine, Metric

router = SimpleRouter()


def _query_int(request, name: str, label: str, **bounds) -> int | None:
    """A number from the query string: None when absent; 400 naming the parameter when not a number."""
    raw = request.query_params.get(name, "")
    if raw == "":
        return None
    value = int_param(raw, **bounds)
    if value is None:
        raise exceptions.ValidationError({name: [f"参数 {name}（{label}）应为整数。"]})
    return value


class AssessmentItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = AssessmentItem
        fields = ["id", "sort_order", "name", "metric", "max_points", "params", "guidance"]
        read_only_fields = fields


class AssessmentRankingSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)

    class Meta:
        model = AssessedBody
        fields = ["id", "organization", "organization_name", "total", "rank", "grade"]
        read_only_fields = fields


class AnnualAssessmentSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    items = AssessmentItemSerializer(many=True, read_only=True)

    class Meta:
        model = AnnualAssessment
        fields = [
            "id", "region", "organization", "organization_name", "fiscal_year", "kind", "title", "status",
            "notice", "compute_job", "computed_at", "published_at", "items",
        ]  # fmt: skip
        read_only_fields = fields


class AnnualAssessmentDetailSerializer(AnnualAssessmentSerializer):
    ranking = serializers.SerializerMethodField()

    class Meta(AnnualAssessmentSerializer.Meta):
        fields = [*AnnualAssessmentSerializer.Meta.fields, "ranking"]
        read_only_fields = fields

    @extend_schema_field(AssessmentRankingSerializer(many=True))
    def get_ranking(self, obj) -> list[dict]:
        return AssessmentRankingSerializer(selectors.ranking(obj), many=True).data


class AnnualAssessmentCreateSerializer(serializers.Serializer):
    fiscal_year = serializers.IntegerField(help_text="考核年度")
    kind = serializers.ChoiceField(choices=AssessmentKind.choices, help_text="考核对象")
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class AssessmentItemWriteSerializer(serializers.Serializer):
    """An item to add (every field but 序号 and 评分标准) or to change (PATCH: only the fields sent).

    Numbers are checked by the service, whose Chinese message names the field."""

    sort_order = serializers.CharField(required=False, allow_blank=True, help_text="序号（0 至 32767 的整数）")
    name = serializers.CharField(required=False, allow_blank=True, help_text="考核项目")
    metric = serializers.ChoiceField(choices=Metric.choices, help_text="计分方式")
    max_points = serializers.CharField(help_text="分值（大于 0，至多 1000，两位小数）")
    params = serializers.JSONField(
        required=False,
        help_text="计分参数：仅“自评与财政重点评价得分偏差”项可设 tolerance（允许偏差，分）和 "
        'deduct_per_point（每超 1 分扣分），如 {"tolerance": 5, "deduct_per_point": 1}',
    )
    guidance = serializers.CharField(required=False, allow_blank=True, help_text="评分标准")


class AssessmentPublishSerializer(serializers.Serializer):
    notice = serializers.CharField(allow_blank=True, help_text="通报说明")


class AssessmentWithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, help_text="撤回理由")


AssessmentJobSerializer = inline_serializer(
    name="AssessmentComputeJob",
    fields={"job": serializers.IntegerField(), "job_url": serializers.CharField(), "status": serializers.CharField()},
)


class AnnualAssessmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """年度考核：财政部门可见本区域全部考核；其他读者仅见已通报的考核。"""

    queryset = AnnualAssessment.objects.all()
    serializer_class = AnnualAssessmentSerializer
    permission_classes = [HasScopeAction]
    scope_action = "annual.view"

    def get_queryset(self):
        return (
            selectors.assessment_visible(self.request.user)
            .select_related("organization")
            .prefetch_related("items")
            .order_by("-fiscal_year_id", "region__sort_order", "kind", "pk")
        )

    def get_serializer_class(self):
        return AnnualAssessmentDetailSerializer if self.action == "retrieve" else AnnualAssessmentSerializer

    @extend_schema(
        parameters=[OpenApiParameter("year", int, description="考核年度")],
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def filter_queryset(self, queryset):
        if self.action == "list":
            year = _query_int(self.request, "year", "考核年度", low=1900, high=9999)
            if year is not None:
                queryset = queryset.filter(fiscal_year_id=year)
        return super().filter_queryset(queryset)

    def _managed(self) -> AnnualAssessment:
        require_action(self.request.user, "annual.manage", "只有组织考核的财政部门可以进行该操作。")
        sheet = self.get_object()
        if not selectors.may_manage(self.request.user, sheet):
            raise exceptions.PermissionDenied("只有组织考核的财政部门可以进行该操作。")
        return sheet

    def _read(self, sheet) -> Response:
        sheet = self.get_queryset().get(pk=sheet.pk)
        return Response(AnnualAssessmentDetailSerializer(sheet).data)

    @extend_schema(request=AnnualAssessmentCreateSerializer, responses={201: AnnualAssessmentDetailSerializer})
    def create(self, request):
        """新建考核（财政部门）：按默认考核项目生成评分表。"""
        require_action(request.user, "annual.manage", "只有财政部门可以组织年度考核。")
        payload = AnnualAssessmentCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        sheet = engine.assessment_create(actor=request.user, **payload.validated_data)
        sheet = self.get_queryset().get(pk=sheet.pk)
        return Response(AnnualAssessmentDetailSerializer(sheet).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={202: AssessmentJobSerializer})
    @action(detail=True, methods=["post"])
    def compute(self, request, pk=None):
        """计算初稿（后台任务）：返回任务编号，进度见 /api/v1/jobs/{id}/ 或任务页面。"""
        job = review.compute_start(actor=request.user, assessment=self._managed())
        return Response(
            {"job": job.pk, "job_url": reverse("jobs:job_detail", args=[job.pk]), "status": job.status},
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(request=AssessmentPublishSerializer, responses=AnnualAssessmentDetailSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """发布通报（待审定 → 已通报）。人工评分项均评分后方可发布。"""
        sheet = self._managed()
        payload = AssessmentPublishSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        problems = selectors.publish_problems(sheet, payload.validated_data["notice"])
        if problems:  # every reason at once: the 通报说明 and the unscored hand-scored lines
            raise exceptions.ValidationError(problems)
        review.assessment_publish(actor=request.user, assessment=sheet, **payload.validated_data)
        return self._read(sheet)

    @extend_schema(request=AssessmentWithdrawSerializer, responses=AnnualAssessmentDetailSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """撤回通报（已通报 → 待审定），须填写理由。"""
        sheet = self._managed()
        payload = AssessmentWithdrawSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        review.assessment_withdraw(actor=request.user, assessment=sheet, **payload.validated_data)
        return self._read(sheet)

    @extend_schema(methods=["GET"], request=None, responses=AssessmentItemSerializer(many=True))
    @extend_schema(methods=["POST"], request=AssessmentItemWriteSerializer, responses={201: AssessmentItemSerializer})
    @action(detail=True, methods=["get", "post"], url_path="items")
    def items(self, request, pk=None):
        """考核项目：列出（可查看该考核者）；增加（财政部门，草稿或待审定时；待审定时增加后需重新计算）。"""
        if request.method == "GET":
            sheet = self.get_object()
            return Response(AssessmentItemSerializer(selectors.items_of(sheet), many=True).data)
        sheet = self._managed()
        payload = AssessmentItemWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        item = engine.item_save(actor=request.user, assessment=sheet, data=dict(payload.validated_data))
        return Response(AssessmentItemSerializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["PATCH"],
        parameters=[OpenApiParameter("item_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="考核项目编号")],
        request=AssessmentItemWriteSerializer,
        responses=AssessmentItemSerializer,
    )
    @extend_schema(
        methods=["DELETE"],
        parameters=[OpenApiParameter("item_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="考核项目编号")],
        request=None,
        responses={204: None},
    )
    @action(detail=True, methods=["patch", "delete"], url_path=r"items/(?P<item_id>[0-9]+)")
    def item(self, request, pk=None, item_id=None):
        """修改（只改所传字段）或删除一个考核项目（财政部门，草稿或待审定时）。"""
        sheet = self._managed()
        item = get_object_or_404(AssessmentItem, assessment=sheet, pk=int_param(item_id) or 0)
        if request.method == "DELETE":
            engine.item_delete(actor=request.user, assessment=sheet, item=item)
            return Response(status=status.HTTP_204_NO_CONTENT)
        payload = AssessmentItemWriteSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        current = {
            "sort_order": item.sort_order,
            "name": item.name,
            "metric": item.metric,
            "max_points": item.max_points,
            "params": item.params or {},
            "guidance": item.guidance,
        }
        changes = dict(payload.validated_data)
        if changes.get("metric", item.metric) != item.metric and "params" not in changes:
            changes["params"] = {}  # another metric: the old metric's parameters don't apply
        item = engine.item_save(actor=request.user, assessment=sheet, data=current | changes, item=item)
        return Response(AssessmentItemSerializer(item).data)


class AssessmentAdjustmentSerializer(serializers.Serializer):
    from_points = serializers.DecimalField(max_digits=7, decimal_places=2)
    to_points = serializers.DecimalField(max_digits=7, decimal_places=2)
    reason = serializers.CharField()
    adjusted_by = serializers.CharField(source="adjusted_by.display_name")
    adjusted_at = serializers.DateTimeField()


class AssessmentLineSerializer(serializers.ModelSerializer):
    item_name = serializers.CharField(source="item.name", read_only=True)
    metric = serializers.CharField(source="item.metric", read_only=True)
    max_points = serializers.DecimalField(source="item.max_points", max_digits=7, decimal_places=2, read_only=True)
    adjusted_by_name = serializers.CharField(source="adjusted_by.display_name", read_only=True, default=None)
    adjustments = AssessmentAdjustmentSerializer(many=True, read_only=True)

    class Meta:
        model = AssessmentLine
        fields = [
            "id", "item", "item_name", "metric", "max_points", "value", "computed_points", "points", "basis",
            "evidence", "adjusted", "adjust_reason", "adjusted_by_name", "adjusted_at", "adjustments",
        ]  # fmt: skip
        read_only_fields = fields


class AssessedBodySerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    assessment_title = serializers.CharField(source="assessment.title", read_only=True)
    lines = AssessmentLineSerializer(many=True, read_only=True)

    class Meta:
        model = AssessedBody
        fields = [
            "id", "assessment", "assessment_title", "organization", "organization_name", "total", "rank",
            "grade", "lines",
        ]  # fmt: skip
        read_only_fields = fields


class AssessedBodyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """考核得分明细：部门仅见本部门；考核通报后可见（组织考核的财政部门随时可见）。"""

    queryset = AssessedBody.objects.all()
    serializer_class = AssessedBodySerializer
    permission_classes = [HasScopeAction]
    scope_action = "annual.breakdown"

    def get_queryset(self):
        from django.db.models import Prefetch

        from .models import AssessmentAdjustment

        lines = AssessmentLine.objects.select_related("item", "adjusted_by").prefetch_related(
            Prefetch("adjustments", queryset=AssessmentAdjustment.objects.select_related("adjusted_by"))
        )
        return (
            selectors.body_visible(self.request.user)
            .select_related("organization", "assessment")
            .prefetch_related(Prefetch("lines", queryset=lines.order_by("item__sort_order", "item_id")))
            .order_by("assessment_id", "rank", "organization__sort_order", "pk")
        )

    @extend_schema(parameters=[OpenApiParameter("assessment", int, description="考核编号")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def filter_queryset(self, queryset):
        if self.action == "list":
            sheet = _query_int(self.request, "assessment", "考核编号", low=1)
            if sheet is not None:
                queryset = queryset.filter(assessment_id=sheet)
        return super().filter_queryset(queryset)


class AssessmentLineAdjustSerializer(serializers.Serializer):
    points = serializers.CharField(allow_blank=True, help_text="得分（0 至本项分值，两位小数）")
    reason = serializers.CharField(allow_blank=True, help_text="调整理由；人工评分项为评分说明")
    evidence = serializers.CharField(required=False, allow_blank=True, default="", help_text="佐证（人工评分项）")


class AssessmentLineViewSet(GenericViewSet):
    """考核得分明细行：财政部门调整得分（或人工评分）。"""

    queryset = AssessmentLine.objects.all()
    serializer_class = AssessmentLineSerializer
    permission_classes = [HasScopeAction]
    scope_action = "annual.breakdown"

    def get_queryset(self):
        return AssessmentLine.objects.filter(body__in=selectors.body_visible(self.request.user)).select_related(
            "item", "adjusted_by"
        )

    @extend_schema(request=AssessmentLineAdjustSerializer, responses=AssessmentLineSerializer)
    @action(detail=True, methods=["post"])
    def adjust(self, request, pk=None):
        """调整得分（待审定时，须填写理由）；人工评分项填写得分、评分说明和佐证。"""
        require_action(request.user, "annual.manage", "只有组织考核的财政部门可以调整得分。")
        line = self.get_object()
        payload = AssessmentLineAdjustSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        line = review.line_adjust(actor=request.user, line=line, **payload.validated_data)
        return Response(
            AssessmentLineSerializer(
                self.get_queryset().prefetch_related("adjustments__adjusted_by").get(pk=line.pk)
            ).data
        )


router.register("annual-assessments", AnnualAssessmentViewSet, basename="annual-assessment")
router.register("assessment-bodies", AssessedBodyViewSet, basename="assessment-body")
router.register("assessment-lines", AssessmentLineViewSet, basename="assessment-line")
