"""双监控 API: rounds, reports (with progress, execution rate and warnings), warnings, 重点监控.

Thin: rows come from ``restrict`` (an out-of-scope id is 404), reads from ``selectors`` and every
write from ``services``, so the API refuses exactly what the pages refuse, with the same messages.
"""

from decimal import Decimal

from django.db.models import Count, Prefetch, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from apps.core.api import HasScopeAction, ScopedViewSetMixin
from apps.funds.models import SpecialFund
from apps.indicators.framework import Comparison
from apps.orgs.models import FiscalYear

from . import rules, selectors, services
from .models import IndicatorProgress, KeyMonitoring, MonitoringReport, MonitoringRound

PROGRESS_FIELDS = (
    "progress_value", "expected_value", "progress_text", "likelihood", "deviation_cause", "corrective_measure",
)  # fmt: skip


PERCENT = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True)
MONEY = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)


def _decimal(field: serializers.DecimalField, value: Decimal | None) -> str | None:
    """Computed amounts and rates as strings, like every model DecimalField of the API."""
    return None if value is None else field.to_representation(value)


def _current_year() -> FiscalYear | None:
    return FiscalYear.objects.order_by("-is_current", "-year").first()


# --- rounds ------------------------------------------------------------------------------------


class MonitoringRoundSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    time_schedule = serializers.SerializerMethodField(help_text="数据截止日期的时间进度（%）")
    report_count = serializers.IntegerField(read_only=True, help_text="您可见的监控报告数")
    submitted_count = serializers.IntegerField(read_only=True, help_text="其中已报送财政的数量")

    class Meta:
        model = MonitoringRound
        fields = [
            "id", "organization", "organization_name", "fiscal_year", "name", "data_as_of", "due_on", "status",
            "status_display", "tolerance_points", "time_schedule", "opened_at", "report_count", "submitted_count",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(PERCENT)
    def get_time_schedule(self, obj) -> str:
        return _decimal(PERCENT, rules.elapsed_share(obj.data_as_of, obj.fiscal_year_id))


class MonitoringRoundOpenSerializer(serializers.Serializer):
    """Open (or re-open: idempotent) the round of the caller's region finance bureau."""

    fiscal_year = serializers.PrimaryKeyRelatedField(queryset=FiscalYear.objects.all())
    data_as_of = serializers.DateField()
    due_on = serializers.DateField()
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    tolerance_points = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0"), max_value=Decimal("100"), default=Decimal("15.00")
    )


class MonitoringRoundOpenedSerializer(serializers.Serializer):
    round = MonitoringRoundSerializer()
    created = serializers.IntegerField(help_text="本次新建的监控任务（报告）数")


class MonitoringRoundViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """Monitoring rounds of the user's region; the counts are of the reports the user may see."""

    queryset = MonitoringRound.objects.all()
    serializer_class = MonitoringRoundSerializer
    scope_action = "monitoring.view"
    filterset_fields = ["fiscal_year", "status", "organization"]

    def get_queryset(self):
        # Same shape as selectors.round_list, over every year (filterable) instead of one.
        user = self.request.user
        visible = MonitoringReport.objects.restrict(user, "monitoring.view").values("pk")
        return (
            MonitoringRound.objects.restrict(user, "monitoring.round")
            .select_related("organization")
            .annotate(
                report_count=Count("reports", filter=Q(reports__in=visible)),
                submitted_count=Count(
                    "reports", filter=Q(reports__in=visible, reports__status__in=selectors.SUBMITTED)
                ),
            )
            .order_by("-fiscal_year", "organization__region__sort_order", "data_as_of", "pk")
        )

    @extend_schema(request=MonitoringRoundOpenSerializer, responses={201: MonitoringRoundOpenedSerializer})
    def create(self, request):
        """开启监控轮次 (region finance): creates the missing report tasks; ``created`` counts them."""
        payload = MonitoringRoundOpenSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        bureau = selectors.finance_bureau_of(request.user)
        if bureau is None:
            raise exceptions.PermissionDenied("只有区域财政部门可以开启监控轮次。")
        round_, made = services.round_open(
            actor=request.user, organization=bureau, fiscal_year=data.pop("fiscal_year"), **data
        )
        round_ = self.get_queryset().get(pk=round_.pk)
        body = {"round": MonitoringRoundSerializer(round_, context=self.get_serializer_context()).data, "created": made}
        return Response(body, status=201)


# --- reports -----------------------------------------------------------------------------------


class MonitoringProgressSerializer(serializers.ModelSerializer):
    indicator_name = serializers.CharField(source="indicator.name", read_only=True)
    level1_display = serializers.CharField(source="indicator.get_level1_display", read_only=True)
    level2_display = serializers.CharField(source="indicator.get_level2_display", read_only=True)
    comparison = serializers.ChoiceField(source="indicator.comparison", choices=Comparison.choices, read_only=True)
    target_value = serializers.DecimalField(
        source="indicator.target_value", max_digits=18, decimal_places=4, read_only=True, allow_null=True
    )
    target_text = serializers.CharField(source="indicator.target_text", read_only=True)
    unit = serializers.CharField(source="indicator.unit", read_only=True)
    value_display = serializers.CharField(source="indicator.value_display", read_only=True)
    likelihood_display = serializers.CharField(source="get_likelihood_display", read_only=True)
    deviation_cause_display = serializers.CharField(source="get_deviation_cause_display", read_only=True)
    at_risk = serializers.SerializerMethodField(help_text="预计难以完成目标（须填写偏差原因和纠偏措施）")

    class Meta:
        model = IndicatorProgress
        fields = [
            "id", "indicator", "indicator_name", "level1_display", "level2_display", "comparison", "target_value",
            "target_text", "unit", "value_display", "progress_value", "expected_value", "progress_text",
            "likelihood", "likelihood_display", "deviation_cause", "deviation_cause_display", "corrective_measure",
            "at_risk",
        ]  # fmt: skip
        read_only_fields = fields

    def get_at_risk(self, obj) -> bool:
        indicator = obj.indicator
        return rules.at_risk(indicator.comparison, indicator.target_value, obj.expected_value, obj.likelihood)


class MonitoringWarningSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="behind_schedule | indicator_impossible | indicator_at_risk | overdue")
    severity = serializers.IntegerField(help_text="3 高，2 中，1 低")
    message = serializers.CharField()


class MonitoringReportSerializer(serializers.ModelSerializer):
    """A report with its indicator progress; rate and warnings are computed, never stored.

    The view puts ``report_warnings`` ({report id: ReportWarnings}) and ``payment_flags`` in the
    context, computed for the whole page at once."""

    round_name = serializers.CharField(source="round.name", read_only=True)
    fiscal_year = serializers.IntegerField(source="round.fiscal_year_id", read_only=True)
    fund_code = serializers.CharField(source="fund.code", read_only=True)
    fund_name = serializers.CharField(source="fund.name", read_only=True)
    department = serializers.IntegerField(source="fund.department_id", read_only=True)
    department_name = serializers.CharField(source="fund.department.name", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    effective_executed_amount = serializers.SerializerMethodField(
        help_text="单位填报的执行数，未填时取国库导入数（元）"
    )
    execution_rate = serializers.SerializerMethodField(help_text="预算执行率（%），无执行数时为 null")
    time_schedule = serializers.SerializerMethodField(help_text="数据截止日期的时间进度（%）")
    severity = serializers.SerializerMethodField(help_text="最高预警等级，0 为无预警")
    warnings = serializers.SerializerMethodField()
    payment_flag = serializers.SerializerMethodField(help_text="重点监控的拨款措施（暂缓拨款/停止拨款/收回资金）")
    progress = MonitoringProgressSerializer(many=True, read_only=True)

    class Meta:
        model = MonitoringReport
        fields = [
            "id", "round", "round_name", "fiscal_year", "fund", "fund_code", "fund_name", "department",
            "department_name", "organization", "organization_name", "target", "status", "status_display",
            "budget_amount", "executed_amount", "imported_executed_amount", "imported_at",
            "effective_executed_amount", "execution_rate", "time_schedule", "severity", "warnings", "payment_flag",
            "execution_note", "return_comment", "status_changed_at", "submitted_at", "updated_at", "progress",
        ]  # fmt: skip
        read_only_fields = fields

    def _item(self, obj) -> selectors.ReportWarnings:
        items = self.context.setdefault("report_warnings", {})
        if obj.pk not in items:  # a lone report serialized outside the views below
            items[obj.pk] = selectors.warnings_for([obj])[0]
        return items[obj.pk]

    @extend_schema_field(MONEY)
    def get_effective_executed_amount(self, obj) -> str | None:
        return _decimal(MONEY, selectors.executed_of(obj))

    @extend_schema_field(PERCENT)
    def get_execution_rate(self, obj) -> str | None:
        return _decimal(PERCENT, self._item(obj).rate)

    @extend_schema_field(PERCENT)
    def get_time_schedule(self, obj) -> str:
        return _decimal(PERCENT, rules.elapsed_share(obj.round.data_as_of, obj.round.fiscal_year_id))

    def get_severity(self, obj) -> int:
        return self._item(obj).severity

    @extend_schema_field(MonitoringWarningSerializer(many=True))
    def get_warnings(self, obj) -> list[dict]:
        return MonitoringWarningSerializer(self._item(obj).warnings, many=True).data

    def get_payment_flag(self, obj) -> str | None:
        flags = self.context.get("payment_flags")
        if flags is None:
            flags = self.context["payment_flags"] = selectors.payment_flags([obj.fund_id])
        return flags.get(obj.fund_id)


class MonitoringProgressInputSerializer(serializers.Serializer):
    """One indicator's progress as typed; numbers are checked by the service (Chinese messages
    naming the indicator). With PATCH, keys left out keep their saved values."""

    progress_value = serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text="数字")
    expected_value = serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text="数字")
    progress_text = serializers.CharField(required=False, allow_blank=True, help_text="定性指标的完成情况")
    likelihood = serializers.CharField(required=False, allow_blank=True, help_text="certain | possible | impossible")
    deviation_cause = serializers.CharField(
        required=False, allow_blank=True, help_text="funding | system | staff | hardware | other"
    )
    corrective_measure = serializers.CharField(required=False, allow_blank=True)


class MonitoringReportSaveSerializer(serializers.Serializer):
    executed_amount = serializers.DecimalField(
        max_digits=18, decimal_places=2, allow_null=True, help_text="已执行金额（元）"
    )
    execution_note = serializers.CharField(required=False, allow_blank=True, default="")
    progress = serializers.DictField(
        child=MonitoringProgressInputSerializer(), help_text="{进度行 id: {...}}；未列出的指标行不变"
    )

    def validate_progress(self, value):
        try:
            return {int(key): dict(row) for key, row in value.items()}
        except ValueError:
            raise serializers.ValidationError("进度行 id 应为整数。") from None


class MonitoringCommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class MonitoringReportViewSet(
    ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, GenericViewSet
):
    """Monitoring reports in scope. Saving and the workflow steps call the pages' services."""

    queryset = MonitoringReport.objects.all()
    serializer_class = MonitoringReportSerializer
    scope_action = "monitoring.view"
    filterset_fields = ["round", "status", "fund"]
    search_fields = ["fund__name", "fund__code"]

    def get_queryset(self):
        progress = IndicatorProgress.objects.select_related("indicator").order_by(
            "indicator__sort_order", "indicator_id"
        )
        return selectors.report_list(user=self.request.user).prefetch_related(Prefetch("progress", queryset=progress))

    def _context(self, reports) -> dict:
        """Warnings and payment flags of a page of reports: two queries whatever its length."""
        return {
            **self.get_serializer_context(),
            "report_warnings": {item.report.pk: item for item in selectors.warnings_for(reports)},
            "payment_flags": selectors.payment_flags(r.fund_id for r in reports),
        }

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(
            MonitoringReportSerializer(page, many=True, context=self._context(page)).data
        )

    def retrieve(self, request, *args, **kwargs):
        report = self.get_object()
        return Response(MonitoringReportSerializer(report, context=self._context([report])).data)

    def _reply(self, report):
        report = self.get_queryset().get(pk=report.pk)
        return Response(MonitoringReportSerializer(report, context=self._context([report])).data)

    @extend_schema(request=MonitoringReportSaveSerializer, responses=MonitoringReportSerializer)
    def update(self, request, *args, partial=False, **kwargs):
        """填报: executed amount (yuan), note and ``progress`` {row id: {...}}; all rows or none.

        PUT takes each listed row as given (a key left out is blank); PATCH keeps whatever is left
        out (the amount, the note, and within a row the keys not sent)."""
        report = self.get_object()
        payload = MonitoringReportSaveSerializer(data=request.data, partial=partial)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        progress = data.get("progress", {})
        if partial:
            saved = {row.pk: row for row in report.progress.all()}
            for pk, row in progress.items():
                if pk in saved:
                    current = {f: getattr(saved[pk], f) for f in PROGRESS_FIELDS}
                    progress[pk] = {**{f: "" if v is None else v for f, v in current.items()}, **row}
        report = services.report_save(
            actor=request.user,
            report=report,
            executed_amount=data.get("executed_amount", report.executed_amount),
            execution_note=data.get("execution_note", report.execution_note),
            progress={pk: {k: "" if v is None else v for k, v in row.items()} for pk, row in progress.items()},
        )
        return self._reply(report)

    @extend_schema(request=MonitoringReportSaveSerializer, responses=MonitoringReportSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def _step(self, name):
        payload = MonitoringCommentSerializer(data=self.request.data)
        payload.is_valid(raise_exception=True)
        report = services.report_transition(
            actor=self.request.user, report=self.get_object(), name=name, comment=payload.validated_data["comment"]
        )
        return self._reply(report)

    @extend_schema(request=MonitoringCommentSerializer, responses=MonitoringReportSerializer)
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """提交部门审核 (filler)."""
        return self._step("send")

    @extend_schema(request=MonitoringCommentSerializer, responses=MonitoringReportSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """部门审核通过并报送财政 (department approver)."""
        return self._step("submit")

    @extend_schema(request=MonitoringCommentSerializer, responses=MonitoringReportSerializer)
    @action(detail=True, methods=["post"])
    def dept_return(self, request, pk=None):
        """部门退回 (comment required)."""
        return self._step("dept_return")

    @extend_schema(request=MonitoringCommentSerializer, responses=MonitoringReportSerializer)
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        """财政接收."""
        return self._step("receive")

    @extend_schema(request=MonitoringCommentSerializer, responses=MonitoringReportSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_report(self, request, pk=None):
        """财政退回 (comment required)."""
        return self._step("return")


# --- warnings ----------------------------------------------------------------------------------


class MonitoringWarningItemSerializer(serializers.Serializer):
    report = serializers.IntegerField(source="report.pk")
    round = serializers.IntegerField(source="report.round_id")
    fund = serializers.IntegerField(source="report.fund_id")
    fund_code = serializers.CharField(source="report.fund.code")
    fund_name = serializers.CharField(source="report.fund.name")
    department = serializers.IntegerField(source="report.fund.department_id")
    department_name = serializers.CharField(source="report.fund.department.name")
    organization_name = serializers.CharField(source="report.organization.name")
    status_display = serializers.CharField(source="report.get_status_display")
    rate = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True, help_text="预算执行率（%）")
    severity = serializers.IntegerField(help_text="最高预警等级")
    warnings = MonitoringWarningSerializer(many=True)
    payment_flag = serializers.SerializerMethodField()

    def get_payment_flag(self, obj) -> str | None:
        return self.context.get("payment_flags", {}).get(obj.report.fund_id)


class MonitoringWarningViewSet(GenericViewSet):
    """预警: every report in scope with a warning, most severe first (computed, not stored)."""

    serializer_class = MonitoringWarningItemSerializer
    permission_classes = [HasScopeAction]
    scope_action = "monitoring.view"
    filter_backends = []

    @extend_schema(
        parameters=[
            OpenApiParameter("fiscal_year", OpenApiTypes.INT, description="预算年度，默认当前年度"),
            OpenApiParameter(
                "kind",
                OpenApiTypes.STR,
                description="只看某类预警",
                enum=[
                    "behind_schedule",
                    "indicator_impossible",
                    "indicator_at_risk",
                    "overdue",
                ],
            ),  # fmt: skip
            OpenApiParameter("department", OpenApiTypes.INT, description="主管部门 id"),
        ]
    )
    def list(self, request):
        params = request.query_params
        try:
            year = int(params["fiscal_year"]) if params.get("fiscal_year") else None
            department = int(params["department"]) if params.get("department") else None
        except ValueError:
            raise exceptions.ValidationError("fiscal_year、department 应为整数。") from None
        if year is None:
            current = _current_year()
            year = current.pk if current else None
        items = selectors.warning_list(
            user=request.user, fiscal_year=year, department=department, kind=params.get("kind", "")
        )
        page = selectors.reports_with_warnings(self.paginate_queryset(items))
        context = {
            **self.get_serializer_context(),
            "payment_flags": selectors.payment_flags(i.report.fund_id for i in page),
        }
        return self.get_paginated_response(MonitoringWarningItemSerializer(page, many=True, context=context).data)


# --- key monitoring ----------------------------------------------------------------------------


class KeyMonitoringSerializer(serializers.ModelSerializer):
    fund_code = serializers.CharField(source="fund.code", read_only=True)
    fund_name = serializers.CharField(source="fund.name", read_only=True)
    department_name = serializers.CharField(source="fund.department.name", read_only=True)
    measure_display = serializers.CharField(source="get_measure_display", read_only=True)
    measured_by_name = serializers.CharField(source="measured_by.display_name", read_only=True, default=None)

    class Meta:
        model = KeyMonitoring
        fields = [
            "id", "fund", "fund_code", "fund_name", "department_name", "fiscal_year", "selected_by", "selected_at",
            "measure", "measure_display", "measure_reason", "measured_by", "measured_by_name", "measured_at",
        ]  # fmt: skip
        read_only_fields = fields


class KeyMonitoringSelectSerializer(serializers.Serializer):
    funds = serializers.ListField(child=serializers.IntegerField(), allow_empty=False, help_text="专项资金 id")
    fiscal_year = serializers.PrimaryKeyRelatedField(queryset=FiscalYear.objects.all())


class KeyMonitoringSelectedSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="新列入重点监控的项目数（已列入的保持不变）")
    results = KeyMonitoringSerializer(many=True, help_text="所选项目的重点监控记录")


class KeyMeasureSerializer(serializers.Serializer):
    measure = serializers.CharField(allow_blank=True, help_text="continue | adjust_target | suspend | stop | recover")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class KeyMonitoringViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """重点监控: finance picks funds and records its measure (调整目标 opens a target adjustment)."""

    queryset = KeyMonitoring.objects.all()
    serializer_class = KeyMonitoringSerializer
    scope_action = "monitoring.key"
    filterset_fields = ["fiscal_year", "measure", "fund"]
    search_fields = ["fund__name", "fund__code"]

    def optimize(self, queryset):
        return queryset.select_related("fund__department", "measured_by").order_by("-fiscal_year", "fund__code", "pk")

    @extend_schema(request=KeyMonitoringSelectSerializer, responses={201: KeyMonitoringSelectedSerializer})
    def create(self, request):
        """列入重点监控 {funds: [id…], fiscal_year}."""
        payload = KeyMonitoringSelectSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        ids, year = set(payload.validated_data["funds"]), payload.validated_data["fiscal_year"]
        funds = list(SpecialFund.objects.restrict(request.user, "monitoring.key").filter(pk__in=ids))
        missing = ids - {f.pk for f in funds}
        if missing:
            listed = "、".join(str(i) for i in sorted(missing))
            raise exceptions.ValidationError({"funds": [f"专项资金不存在或不在您的监管范围内：{listed}。"]})
        made = services.key_select(actor=request.user, funds=funds, fiscal_year=year)
        keys = self.get_queryset().filter(fiscal_year=year, fund__in=funds)
        body = {"created": made, "results": KeyMonitoringSerializer(keys, many=True).data}
        return Response(body, status=201)

    @extend_schema(request=KeyMeasureSerializer, responses=KeyMonitoringSerializer)
    @action(detail=True, methods=["post"])
    def measure(self, request, pk=None):
        """处理措施 {measure, reason}."""
        payload = KeyMeasureSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        key = services.key_measure(actor=request.user, key=self.get_object(), **payload.validated_data)
        return Response(KeyMonitoringSerializer(self.get_queryset().get(pk=key.pk)).data)
