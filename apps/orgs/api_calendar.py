"""The work calendar API under /api/v1/calendar/.

* ``GET`` list / detail — the steps' due dates the user may see (``calendar.view``);
* ``POST`` (set a step's dates in the user's own region, created or changed) and ``PUT``/``PATCH``
  ``{id}/`` — finance of that region (``calendar.manage``) through ``services.calendar_entry_set``;
  another region's entry is 404, a role without the action 403;
* ``POST copy/`` — the city's performance division copies 市本级's dates to districts (``calendar.copy``);
* ``GET deadlines/?fiscal_year=&from=&to=`` — every deadline the user may see (steps, rounds,
  per-item) in one list, by date.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from apps.core.api import ScopedViewSetMixin

from . import deadlines, selectors, services
from .models import FiscalYear, Organization, Region, WorkCalendar, WorkStep

STEP_CODES = "、".join(WorkStep.values)
DATE_HINT = "格式应为 YYYY-MM-DD，如 2026-08-15"


class WorkCalendarSerializer(serializers.ModelSerializer):
    step_display = serializers.CharField(source="get_step_display", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    region = serializers.IntegerField(source="organization.region_id", read_only=True)

    class Meta:
        model = WorkCalendar
        fields = [
            "id",
            "organization",
            "organization_name",
            "region",
            "fiscal_year",
            "step",
            "step_display",
            "starts_on",
            "due_on",
            "note",
        ]
        read_only_fields = fields


def _date_field(label: str, name: str, **kwargs) -> serializers.DateField:
    return serializers.DateField(
        error_messages={
            "invalid": f"{label}（{name}）{DATE_HINT}。",
            "required": f"请填写{label}（{name}）。",
            "null": f"请填写{label}（{name}）。",
            "datetime": f"{label}（{name}）只填日期，不要带时间。",
        },
        **kwargs,
    )


class CalendarDatesSerializer(serializers.Serializer):
    """A step's dates (the body of ``PUT``/``PATCH`` on an entry)."""

    starts_on = _date_field("开始日期", "starts_on", required=False, allow_null=True, help_text="开始日期（可空）")
    due_on = _date_field("截止日期", "due_on", help_text="截止日期")
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="说明（可空）",
        error_messages={"max_length": "说明（note）不能超过 200 个字。", "invalid": "说明（note）应为文字。"},
    )  # fmt: skip


class CalendarEntrySetSerializer(CalendarDatesSerializer):
    """Set one step's dates (``POST``): created when missing, changed when present."""

    step = serializers.ChoiceField(
        choices=WorkStep.choices, help_text="业务环节",
        error_messages={
            "required": "请指定业务环节（step）。",
            "invalid_choice": f"业务环节（step）“{{input}}”不存在，可选：{STEP_CODES}。",
        },
    )  # fmt: skip
    fiscal_year = serializers.IntegerField(
        required=False, allow_null=True, help_text="预算年度，省略则为当前年度",
        error_messages={"invalid": "预算年度（fiscal_year）应为四位年份，如 2026。"},
    )  # fmt: skip
    organization = serializers.IntegerField(
        required=False, allow_null=True, help_text="财政局 id，省略则为本人所在区域的财政局",
        error_messages={"invalid": "财政部门（organization）应为机构 id。"},
    )  # fmt: skip


class CalendarCopySerializer(serializers.Serializer):
    fiscal_year = serializers.IntegerField(
        help_text="预算年度",
        error_messages={
            "required": "请指定要复制的预算年度（fiscal_year）。",
            "invalid": "预算年度（fiscal_year）应为四位年份，如 2026。",
            "null": "请指定要复制的预算年度（fiscal_year）。",
        },
    )
    regions = serializers.ListField(
        child=serializers.IntegerField(error_messages={"invalid": "区市（regions）应为区域 id 列表。"}),
        required=False, default=list, help_text="要复制到的区市（区域 id）；与 all_districts 二选一",
        error_messages={"not_a_list": "区市（regions）应为区域 id 列表，如 [2, 3]。"},
    )  # fmt: skip
    all_districts = serializers.BooleanField(required=False, default=False, help_text="复制到全部区市")
    overwrite = serializers.BooleanField(
        required=False, default=False, help_text="覆盖区市已设置的日期（默认只补缺失的环节）"
    )

    def validate(self, data):
        if data["all_districts"]:
            data["regions"] = list(services.copy_target_regions())
            return data
        districts = {r.pk: r for r in Region.objects.filter(level=Region.Level.DISTRICT)}
        unknown = [pk for pk in data["regions"] if pk not in districts]
        if unknown:
            raise serializers.ValidationError(
                {"regions": f"区市（regions）中的 {', '.join(map(str, unknown))} 不是区市的区域 id。"}
            )
        data["regions"] = [districts[pk] for pk in dict.fromkeys(data["regions"])]
        return data


class CalendarCopyResultSerializer(serializers.Serializer):
    regions = serializers.IntegerField(help_text="复制到的区市数")
    added = serializers.IntegerField(help_text="新增的环节数")
    overwritten = serializers.IntegerField(help_text="覆盖的环节数")
    message = serializers.CharField()


class DeadlineSerializer(serializers.Serializer):
    kind = serializers.CharField(
        help_text="step 工作环节 | monitoring_round 监控轮次 | self_evaluation_round 自评批次 | "
        "rectification 整改期限 | target_resubmit 退回重报"
    )
    kind_display = serializers.CharField(source="kind_label")
    date = serializers.DateField(help_text="截止日期")
    title = serializers.CharField()
    url = serializers.CharField(help_text="网页地址")
    organization = serializers.IntegerField(source="organization_id", help_text="责任单位（环节、轮次为财政局）")
    organization_name = serializers.CharField()
    region = serializers.IntegerField(source="region_id")
    object_id = serializers.IntegerField(help_text="记录 id（按 kind 区分）")
    starts_on = serializers.DateField(allow_null=True)
    note = serializers.CharField()
    days_left = serializers.SerializerMethodField(help_text="距截止日期的天数（负数为已逾期）")
    reminder = serializers.SerializerMethodField(help_text="提醒状态，如“7天内到期”“已逾期2天”；不在提醒期内为 null")

    def get_days_left(self, d) -> int:
        return (d.date - self.context["today"]).days

    def get_reminder(self, d) -> str | None:
        schedule = d.kind not in deadlines.Kind.PER_ITEM
        badge = self.context["windows"].badge(d.date, d.region_id, self.context["today"], schedule=schedule)
        return badge.label if badge else None


class DeadlineListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    truncated = serializers.BooleanField(help_text=f"某类截止日期超过 {deadlines.API_LIMIT} 项，只返回最早的部分")
    results = DeadlineSerializer(many=True)


def _validate_window(self, data):
    if data.get("from") and data.get("to") and data["from"] > data["to"]:
        raise serializers.ValidationError({"to": "截止日期（to）不能早于起始日期（from）。"})
    return data


# ``from`` is a Python keyword: the query serializer is built with ``type``.
DeadlineQuerySerializer = type(
    "DeadlineQuerySerializer",
    (serializers.Serializer,),
    {
        "fiscal_year": serializers.IntegerField(
            required=False, error_messages={"invalid": "预算年度（fiscal_year）应为四位年份，如 2026。"}
        ),
        "from": _date_field("起始日期", "from", required=False),
        "to": _date_field("截止日期", "to", required=False),
        "region": serializers.IntegerField(required=False, error_messages={"invalid": "区域（region）应为区域 id。"}),
        "validate": _validate_window,
    },
)


class WorkCalendarViewSet(
    ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, GenericViewSet
):
    """工作日历: read by the region's business users, written by its finance, copied by the city."""

    queryset = WorkCalendar.objects.all()
    serializer_class = WorkCalendarSerializer
    filterset_fields = ["fiscal_year", "step", "organization"]
    ordering_fields = ["due_on"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    ACTIONS = {
        "create": "calendar.manage",
        "update": "calendar.manage",
        "partial_update": "calendar.manage",
        "copy": "calendar.copy",
    }

    @property
    def scope_action(self) -> str:
        # Writes are scoped by ``calendar.manage``: another region's entry is simply not found (404).
        return self.ACTIONS.get(getattr(self, "action", None), "calendar.view")

    def optimize(self, queryset):
        return queryset.select_related("organization")

    def get_serializer_class(self):
        return CalendarDatesSerializer if self.action in ("update", "partial_update") else WorkCalendarSerializer

    def _answer(self, entry: WorkCalendar, code=status.HTTP_200_OK) -> Response:
        entry = self.get_queryset().get(pk=entry.pk)
        return Response(WorkCalendarSerializer(entry).data, status=code)

    @extend_schema(
        request=CalendarEntrySetSerializer, responses={201: WorkCalendarSerializer, 200: WorkCalendarSerializer}
    )
    def create(self, request):
        """设置本区域某一业务环节的日期（尚未设置则新增，已设置则修改）。"""
        payload = CalendarEntrySetSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        bureau = self._bureau(data.get("organization"))
        fiscal_year = self._fiscal_year(data.get("fiscal_year"))
        existed = WorkCalendar.objects.filter(organization=bureau, fiscal_year=fiscal_year, step=data["step"]).exists()
        entry = services.calendar_entry_set(
            actor=request.user,
            organization=bureau,
            fiscal_year=fiscal_year,
            step=data["step"],
            starts_on=data.get("starts_on"),
            due_on=data["due_on"],
            note=data.get("note", ""),
        )
        return self._answer(entry, status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(request=CalendarDatesSerializer, responses=WorkCalendarSerializer)
    def update(self, request, *args, **kwargs):
        """修改某一环节的日期（PATCH 只改提交的字段）。"""
        entry = self.get_object()
        payload = CalendarDatesSerializer(data=request.data, partial=kwargs.get("partial", False))
        payload.is_valid(raise_exception=True)
        data = {"starts_on": entry.starts_on, "due_on": entry.due_on, "note": entry.note, **payload.validated_data}
        entry = services.calendar_entry_set(
            actor=request.user,
            organization=entry.organization,
            fiscal_year=entry.fiscal_year,
            step=entry.step,
            starts_on=data["starts_on"],
            due_on=data["due_on"],
            note=data["note"] or "",
        )
        return self._answer(entry)

    def _bureau(self, organization_id: int | None) -> Organization:
        if organization_id is None:
            bureau = selectors.managed_finance_bureau(self.request.user)
            if bureau is None:
                raise exceptions.PermissionDenied("您所在机构不属于财政局，请在 organization 中指定要维护的财政局。")
            return bureau
        bureau = (
            Organization.objects.restrict(self.request.user, "calendar.manage")
            .filter(pk=organization_id, kind=Organization.Kind.FINANCE)
            .first()
        )
        if bureau is None:
            raise exceptions.NotFound("未找到该财政局，或您无权维护其工作日历。")
        return bureau

    @staticmethod
    def _fiscal_year(year: int | None) -> FiscalYear:
        found = (
            FiscalYear.objects.filter(pk=year).first()
            if year is not None
            else FiscalYear.objects.filter(is_current=True).first()
        )
        if found is None:
            message = (
                f"预算年度（fiscal_year）{year} 不存在。"
                if year is not None
                else "尚未设置当前预算年度，请指定 fiscal_year。"
            )
            raise exceptions.ValidationError({"fiscal_year": [message]})
        return found

    @extend_schema(request=CalendarCopySerializer, responses=CalendarCopyResultSerializer)
    @action(detail=False, methods=["post"])
    def copy(self, request):
        """将市本级某年度的工作日历复制到区市（默认只补缺失的环节，overwrite=true 时覆盖）。"""
        payload = CalendarCopySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        result = services.calendar_copy(
            actor=request.user,
            fiscal_year=data["fiscal_year"],
            regions=data["regions"],
            overwrite=data["overwrite"],
        )
        return Response(
            CalendarCopyResultSerializer(
                {"regions": result.regions, "added": result.added, "overwritten": result.overwritten,
                 "message": result.message}
            ).data
        )  # fmt: skip

    @extend_schema(
        filters=False,
        parameters=[
            OpenApiParameter("fiscal_year", OpenApiTypes.INT, description="预算年度（各记录所属年度）"),
            OpenApiParameter("from", OpenApiTypes.DATE, description="截止日期不早于"),
            OpenApiParameter("to", OpenApiTypes.DATE, description="截止日期不晚于"),
            OpenApiParameter("region", OpenApiTypes.INT, description="区域 id"),
        ],
        responses=DeadlineListSerializer,
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def deadlines(self, request):
        """本人可见的全部截止日期：工作环节、监控轮次、自评批次、整改期限、退回重报期限，按日期排列。"""
        query = DeadlineQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        window = deadlines.Window(
            fiscal_year=q.get("fiscal_year"), date_from=q.get("from"), date_to=q.get("to"), region_id=q.get("region")
        )
        rows, truncated = deadlines.all_deadlines(request.user, window)
        context = {"today": timezone.localdate(), "windows": deadlines.ReminderWindows()}
        return Response(
            {
                "count": len(rows),
                "truncated": truncated,
                "results": DeadlineSerializer(rows, many=True, context=context).data,
            }
        )
