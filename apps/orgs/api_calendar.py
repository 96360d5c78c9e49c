"""The work calendar API under /api/v1/calendar/.

* ``GET`` list / detail — the steps' due dates the user may see (``calendar.view``);
* ``POST`` sets a step's dates in the user's own region (created → 201, changed → 200; what it is
  not sent it keeps), ``PUT {id}/`` replaces an entry's dates (an optional field left out is
  cleared), ``PATCH {id}/`` changes only what it is sent — finance of that region
  (``calendar.manage``) through ``services.calendar_entry_set``; another region's entry is 404, a
  role without the action 403;
* ``POST copy/`` — the city's performance division copies 市本级's dates to districts (``calendar.copy``);
* ``GET deadlines/?fiscal_year=&from=&to=`` — every deadline the user may see (steps, rounds,
  per-item) in one list, by date.

Every message names its field, ``label（key）``, including DRF's own (``null``, a wrong type) and a
body that is not a JSON object.
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
YEAR_HINT = "预算年度（fiscal_year）应为四位年份，如 2026。"


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


def field_errors(label: str, name: str, **specific: str) -> dict[str, str]:
    """The messages DRF may give for one field, each naming it: ``label（name）…``."""
    field = f"{label}（{name}）"
    return {
        "required": f"请填写{field}。",
        "null": f"{field}不能为 null。",
        "blank": f"请填写{field}。",
        "invalid": f"{field}格式不正确。",
        **specific,
    }


def _date_field(label: str, name: str, **kwargs) -> serializers.DateField:
    return serializers.DateField(
        error_messages=field_errors(
            label, name,
            null=f"请填写{label}（{name}）。",
            invalid=f"{label}（{name}）{DATE_HINT}。",
            date=f"{label}（{name}）{DATE_HINT}。",
            datetime=f"{label}（{name}）只填日期，不要带时间。",
        ),
        **kwargs,
    )  # fmt: skip


def _year_field(missing: str = "请填写预算年度（fiscal_year）。", **kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(
        error_messages=field_errors(
            "预算年度", "fiscal_year", required=missing, null=missing, invalid=YEAR_HINT, max_string_length=YEAR_HINT
        ),
        **kwargs,
    )


def _flag_field(label: str, name: str, help_text: str) -> serializers.BooleanField:
    return serializers.BooleanField(
        required=False, default=False, help_text=help_text,
        error_messages=field_errors(label, name, invalid=f"{label}（{name}）应为 true 或 false。"),
    )  # fmt: skip


def body_errors(example: str) -> dict[str, str]:
    """A body that is not a JSON object (DRF's own message names the Python type)."""
    return {"invalid": "请求内容应为 JSON 对象，如 " + example.replace("{", "{{").replace("}", "}}") + "。"}


class CalendarDatesSerializer(serializers.Serializer):
    """A step's dates: the body of ``PUT`` (all of them; an optional one left out is cleared) and
    ``PATCH`` (only those sent) on an entry."""

    default_error_messages = body_errors('{"due_on": "2026-08-15", "starts_on": "2026-08-01", "note": ""}')

    starts_on = _date_field("开始日期", "starts_on", required=False, allow_null=True, help_text="开始日期（可空）")
    due_on = _date_field("截止日期", "due_on", help_text="截止日期")
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="说明（可空）",
        error_messages=field_errors("说明", "note", max_length="说明（note）不能超过 200 个字。",
                                    invalid="说明（note）应为文字。"),
    )  # fmt: skip


class CalendarEntrySetSerializer(CalendarDatesSerializer):
    """Set one step's dates (``POST``): created when missing, changed when present; a field left
    out keeps its value."""

    default_error_messages = body_errors('{"step": "monitoring", "due_on": "2026-08-15"}')

    step = serializers.ChoiceField(
        choices=WorkStep.choices, help_text="业务环节",
        error_messages=field_errors(
            "业务环节", "step",
            required="请指定业务环节（step）。",
            invalid_choice=f"业务环节（step）“{{input}}”不存在，可选：{STEP_CODES}。",
        ),
    )  # fmt: skip
    fiscal_year = _year_field(required=False, allow_null=True, help_text="预算年度，省略则为当前年度")
    organization = serializers.IntegerField(
        required=False, allow_null=True, help_text="财政局 id，省略则为本人所在区域的财政局",
        error_messages=field_errors("财政部门", "organization", invalid="财政部门（organization）应为机构 id。",
                                    max_string_length="财政部门（organization）应为机构 id。"),
    )  # fmt: skip


class CalendarCopySerializer(serializers.Serializer):
    default_error_messages = body_errors('{"fiscal_year": 2026, "regions": [2, 3]}')

    fiscal_year = _year_field(missing="请指定要复制的预算年度（fiscal_year）。", help_text="预算年度")
    regions = serializers.ListField(
        child=serializers.IntegerField(
            error_messages=field_errors("区市", "regions", invalid="区市（regions）应为区域 id 列表。",
                                        null="区市（regions）应为区域 id 列表，不能含 null。",
                                        max_string_length="区市（regions）应为区域 id 列表。")
        ),
        required=False, help_text="要复制到的区市（区域 id）；与 all_districts 二选一",
        error_messages=field_errors("区市", "regions", not_a_list="区市（regions）应为区域 id 列表，如 [2, 3]。"),
    )  # fmt: skip
    all_districts = _flag_field("全部区市", "all_districts", "复制到全部区市；与 regions 二选一")
    overwrite = _flag_field("覆盖", "overwrite", "覆盖区市已设置的日期（默认只补缺失的环节）")

    def validate(self, data):
        if data["all_districts"]:
            if data.get("regions"):
                raise serializers.ValidationError({"regions": "请在指定区市和全部区市中二选一。"})
            data["regions"] = list(services.copy_target_regions())
            return data
        districts = {r.pk: r for r in Region.objects.filter(level=Region.Level.DISTRICT)}
        regions = data.get("regions", [])
        unknown = [pk for pk in regions if pk not in districts]
        if unknown:
            raise serializers.ValidationError(
                {"regions": f"区市（regions）中的 {', '.join(map(str, unknown))} 不是区市的区域 id。"}
            )
        data["regions"] = [districts[pk] for pk in dict.fromkeys(regions)]
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
    due_on = serializers.DateField(help_text="截止日期")
    title = serializers.CharField()
    url = serializers.CharField(help_text="网页地址")
    organization = serializers.IntegerField(source="organization_id", help_text="责任单位（环节、轮次为财政局）")
    organization_name = serializers.CharField()
    region = serializers.IntegerField(source="region_id")
    object_id = serializers.IntegerField(help_text="记录 id（按 kind 区分）")
    starts_on = serializers.DateField(allow_null=True)
    note = serializers.CharField()
    days_from_due = serializers.SerializerMethodField(
        help_text="今天距截止日期的天数：正数为已逾期的天数，0 为今天到期，负数为尚未到期（与消息接口一致）"
    )
    reminder = serializers.SerializerMethodField(help_text="提醒状态，如“7天内到期”“已逾期2天”；不在提醒期内为 null")

    def get_days_from_due(self, d) -> int:
        return (self.context["today"] - d.due_on).days

    def get_reminder(self, d) -> str | None:
        windows, today = self.context["windows"], self.context["today"]
        if d.kind in deadlines.Kind.PER_ITEM:
            badge = windows.item_badge(d, today)
        else:
            badge = windows.badge(d.due_on, d.region_id, today, schedule=True)
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
        """设置本区域某一业务环节的日期：尚未设置则新增（201），已设置则修改（200）；
        未提交的 starts_on、note 保持原值（新增时为空）。"""
        payload = CalendarEntrySetSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        entry, created = services.calendar_entry_set(
            actor=request.user,
            organization=self._bureau(data.get("organization")),
            fiscal_year=self._fiscal_year(data.get("fiscal_year")),
            step=data["step"],
            **{name: data[name] for name in services.CALENDAR_FIELDS if name in data},
        )
        return self._answer(entry, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=CalendarDatesSerializer, responses=WorkCalendarSerializer)
    def update(self, request, *args, **kwargs):
        """替换某一环节的日期：due_on 必填，未提交的 starts_on、note 清空。"""
        return self._set(request, partial=False)

    @extend_schema(request=CalendarDatesSerializer, responses=WorkCalendarSerializer)
    def partial_update(self, request, *args, **kwargs):
        """修改某一环节的日期：只改提交的字段，未提交的保持原值。"""
        return self._set(request, partial=True)

    def _set(self, request, *, partial: bool) -> Response:
        entry = self.get_object()
        payload = CalendarDatesSerializer(data=request.data, partial=partial)
        payload.is_valid(raise_exception=True)
        fields = dict(payload.validated_data) if partial else {"starts_on": None, "note": "", **payload.validated_data}
        entry, _ = services.calendar_entry_set(
            actor=request.user,
            organization=entry.organization,
            fiscal_year=entry.fiscal_year,
            step=entry.step,
            **fields,
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
