from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from apps.core.api import ScopedViewSetMixin
from apps.funds.models import SpecialFund

from . import selectors, services
from .models import PerformanceTarget, TargetIndicator
from .rows import COLUMNS


class TargetIndicatorSerializer(serializers.ModelSerializer):
    level1_display = serializers.CharField(source="get_level1_display", read_only=True)
    level2_display = serializers.CharField(source="get_level2_display", read_only=True)
    value_display = serializers.CharField(read_only=True)

    class Meta:
        model = TargetIndicator
        fields = [
            "id", "sort_order", "level1", "level1_display", "level2", "level2_display", "name", "comparison",
            "target_value", "target_text", "value_display", "unit", "weight", "library_indicator", "review_comment",
        ]  # fmt: skip
        read_only_fields = fields


class PerformanceTargetSerializer(serializers.ModelSerializer):
    indicators = TargetIndicatorSerializer(many=True, read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    fund_code = serializers.CharField(source="fund.code", read_only=True, default=None)
    fund_name = serializers.CharField(source="fund.name", read_only=True, default=None)

    class Meta:
        model = PerformanceTarget
        fields = [
            "id", "kind", "fund", "fund_code", "fund_name", "organization", "fiscal_year", "version", "previous",
            "status", "status_display", "long_term_goal", "annual_goal", "adjustment_reason", "return_comment",
            "resubmit_by", "status_changed_at", "submitted_at", "approved_at", "indicators",
        ]  # fmt: skip
        read_only_fields = fields


class RowInputSerializer(serializers.Serializer):
    """One indicator row as typed; validated by apps.targets.rows like the form and the import."""

    id = serializers.IntegerField(required=False, allow_null=True)
    level1 = serializers.CharField()
    level2 = serializers.CharField()
    name = serializers.CharField(allow_blank=True)
    comparison = serializers.CharField()
    value = serializers.CharField(allow_blank=True, required=False, default="")
    unit = serializers.CharField(allow_blank=True, required=False, default="")
    weight = serializers.CharField(allow_blank=True, required=False, default="0")
    library_indicator_id = serializers.IntegerField(required=False, allow_null=True)


class TargetSaveSerializer(serializers.Serializer):
    long_term_goal = serializers.CharField(allow_blank=True, required=False, default="")
    annual_goal = serializers.CharField(allow_blank=True, required=False, default="")
    indicators = RowInputSerializer(many=True)


class StartSerializer(serializers.Serializer):
    fund = serializers.IntegerField()


class TargetCommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class TargetReturnSerializer(TargetCommentSerializer):
    indicator_comments = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    resubmit_by = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="重新报送期限：填报单位的催办提醒以此为准。省略则为建议日期（本区域绩效目标申报的截止日期，"
        "不足一周的为一周后），null 为不设期限（按工作日历催办）。不得早于今天；部门退回时不得晚于建议日期，"
        "财政退回时不得晚于一年后",
        error_messages={
            "invalid": "重新报送期限格式错误，请使用 YYYY-MM-DD，如 2026-12-01。",
            "date": "重新报送期限格式错误，请使用 YYYY-MM-DD，如 2026-12-01。",
            "datetime": "重新报送期限只填日期，不要带时间。",
        },
    )


class AdjustSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)


class PerformanceTargetViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """Targets with their indicator rows. Writes and workflow steps call the page's services."""

    queryset = PerformanceTarget.objects.all()
    serializer_class = PerformanceTargetSerializer
    scope_action = "target.view"
    filterset_fields = ["fiscal_year", "status", "kind", "fund", "organization"]
    search_fields = ["fund__name", "fund__code"]

    def get_queryset(self):
        return (
            selectors.target_queryset(self.request.user)
            .prefetch_related(Prefetch("indicators", queryset=TargetIndicator.objects.order_by("sort_order", "id")))
            .order_by("pk")
        )

    def _reply(self, target, status=200):
        target = self.get_queryset().get(pk=target.pk)
        return Response(PerformanceTargetSerializer(target, context=self.get_serializer_context()).data, status=status)

    def _payload(self, serializer_class):
        payload = serializer_class(data=self.request.data)
        payload.is_valid(raise_exception=True)
        return payload.validated_data

    def create(self, request):
        """Open the target of a fund: ``{"fund": id}``."""
        data = self._payload(StartSerializer)
        fund = SpecialFund.objects.restrict(request.user, "target.edit").filter(pk=data["fund"]).first()
        if fund is None:
            from rest_framework.exceptions import NotFound

            raise NotFound("专项资金不存在或不在您的填报范围内。")
        return self._reply(services.target_start(actor=request.user, fund=fund), status=201)

    def update(self, request, pk=None):
        """Save the header and the whole ordered list of rows (all or nothing)."""
        data = self._payload(TargetSaveSerializer)
        try:
            target = services.target_save(
                actor=request.user,
                target=self.get_object(),
                long_term_goal=data["long_term_goal"],
                annual_goal=data["annual_goal"],
                rows=[dict(row) for row in data["indicators"]],
            )
        except services.RowsInvalid as exc:
            errors = [{"row": e.row, "column": COLUMNS.get(e.column, ""), "message": str(e)} for e in exc.row_errors]
            return Response({"indicators": errors}, status=400)
        return self._reply(target)

    def _step(self, fn, **kwargs):
        return self._reply(fn(actor=self.request.user, target=self.get_object(), **kwargs))

    @extend_schema(request=TargetCommentSerializer, responses=PerformanceTargetSerializer)
    @action(detail=True, methods=["post"], serializer_class=TargetCommentSerializer)
    def send(self, request, pk=None):
        """提交部门审核 (filer)."""
        return self._step(services.target_send, **self._payload(TargetCommentSerializer))

    @extend_schema(request=TargetCommentSerializer, responses=PerformanceTargetSerializer)
    @action(detail=True, methods=["post"], serializer_class=TargetCommentSerializer)
    def submit(self, request, pk=None):
        """部门审核通过并报送财政 (department approver)."""
        return self._step(services.target_submit, **self._payload(TargetCommentSerializer))

    @extend_schema(request=TargetCommentSerializer, responses=PerformanceTargetSerializer)
    @action(detail=True, methods=["post"], url_path="pass", serializer_class=TargetCommentSerializer)
    def pass_review(self, request, pk=None):
        """业务处室审核通过 (assigned sector reviewer)."""
        return self._step(services.target_pass, **self._payload(TargetCommentSerializer))

    @extend_schema(request=TargetCommentSerializer, responses=PerformanceTargetSerializer)
    @action(detail=True, methods=["post"], serializer_class=TargetCommentSerializer)
    def approve(self, request, pk=None):
        """批复 (绩效管理处)."""
        return self._step(services.target_approve, **self._payload(TargetCommentSerializer))

    @extend_schema(request=TargetReturnSerializer, responses=PerformanceTargetSerializer)
    @action(detail=True, methods=["post"], url_path="return", serializer_class=TargetReturnSerializer)
    def return_target(self, request, pk=None):
        """退回：填写退回意见 comment、逐行意见 indicator_comments {指标行 id: 意见} 和重新报送期限 resubmit_by
        （省略则为建议日期，null 为不设期限）；返回退回后的绩效目标。"""
        data = self._payload(TargetReturnSerializer)
        target = self.get_object()
        # Left out: the date the page proposes, so a return through the API also sets the unit a date.
        resubmit_by = data["resubmit_by"] if "resubmit_by" in data else selectors.resubmit_default(target)
        return self._reply(
            services.target_return(
                actor=request.user,
                target=target,
                comment=data["comment"],
                indicator_comments=data.get("indicator_comments") or {},
                resubmit_by=resubmit_by,
            )
        )

    @extend_schema(request=AdjustSerializer, responses={201: PerformanceTargetSerializer})
    @action(detail=True, methods=["post"], serializer_class=AdjustSerializer)
    def adjust(self, request, pk=None):
        """调整: a new version of an approved target."""
        new = services.target_adjust(actor=request.user, target=self.get_object(), **self._payload(AdjustSerializer))
        return self._reply(new, status=201)

    @action(detail=True, methods=["get"])
    def quality(self, request, pk=None):
        """The quality checks of the saved target."""
        target = self.get_object()
        issues = selectors.quality_for([target])[target.pk]
        return Response([{"code": i.code, "message": i.message, "blocking": i.blocking} for i in issues])
