"""The indicator library over the API: search for everyone who may read it, writes through the
same services as the pages (绩效管理处 maintains and decides; departments propose)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from apps.core import permissions
from apps.core.api import ScopedViewSetMixin

from . import selectors, services
from .framework import Comparison, Level1, Level2, Sector
from .models import LibraryIndicator


class LibraryIndicatorSerializer(serializers.ModelSerializer):
    level1_display = serializers.CharField(source="get_level1_display", read_only=True)
    level2_display = serializers.CharField(source="get_level2_display", read_only=True)
    sector_display = serializers.CharField(source="get_sector_display", read_only=True)
    comparison_display = serializers.CharField(source="get_comparison_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = LibraryIndicator
        fields = [
            "id",
            "code",
            "name",
            "level1",
            "level1_display",
            "level2",
            "level2_display",
            "sector",
            "sector_display",
            "comparison",
            "comparison_display",
            "unit",
            "reference_value",
            "description",
            "is_core",
            "status",
            "status_display",
            "updated_at",
        ]
        read_only_fields = fields


class ProposalDetailSerializer(LibraryIndicatorSerializer):
    proposer_organization_name = serializers.CharField(
        source="proposer_organization.name", read_only=True, default=None
    )

    class Meta(LibraryIndicatorSerializer.Meta):
        fields = [
            *LibraryIndicatorSerializer.Meta.fields,
            "proposer_organization",
            "proposer_organization_name",
            "proposal_reason",
            "decision_comment",
        ]
        read_only_fields = fields


class IndicatorWriteSerializer(serializers.Serializer):
    """Input shape and choices only; the services apply the business rules (and their messages)."""

    code = serializers.CharField(required=False, allow_blank=True, max_length=30)
    name = serializers.CharField(max_length=200, error_messages={"required": "请填写指标名称。"})
    level1 = serializers.ChoiceField(choices=Level1.choices)
    level2 = serializers.ChoiceField(choices=Level2.choices)
    sector = serializers.ChoiceField(choices=Sector.choices)
    comparison = serializers.ChoiceField(choices=Comparison.choices)
    unit = serializers.CharField(required=False, allow_blank=True, max_length=30, default="")
    reference_value = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    is_core = serializers.BooleanField(required=False, default=False)


class ProposalWriteSerializer(IndicatorWriteSerializer):
    code = None
    is_core = None
    reason = serializers.CharField(error_messages={"required": "请说明建议理由。", "blank": "请说明建议理由。"})


class DecisionSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


# Writes need more than reading the library: the action each viewset action requires.
WRITE_ACTIONS = {
    "create": "indicator.manage",
    "partial_update": "indicator.manage",
    "retire": "indicator.manage",
    "restore": "indicator.manage",
    "accept": "indicator.manage",
    "reject": "indicator.manage",
    "propose": "indicator.propose",
}


class HasWriteAction(BasePermission):
    message = "您的角色无权执行此操作：指标库由市财政局绩效管理处维护，部门可提出建议指标。"

    def has_permission(self, request, view):
        required = WRITE_ACTIONS.get(view.action)
        return required is None or permissions.has_action(request.user, required)


SEARCH_PARAMETERS = [
    OpenApiParameter("q", str, description="关键字（名称、编码、计算方法；PostgreSQL 上按相似度排序）"),
    OpenApiParameter("sector", str, enum=Sector.values, description="行业领域"),
    OpenApiParameter("level1", str, enum=Level1.values, description="一级指标"),
    OpenApiParameter("level2", str, enum=Level2.values, description="二级指标"),
    OpenApiParameter("include_retired", bool, description="含已停用指标"),
]


class LibraryIndicatorViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """指标库。列表只含库指标（不含部门建议）；详情另含本人可见的部门建议。"""

    queryset = LibraryIndicator.objects.all()
    serializer_class = LibraryIndicatorSerializer
    scope_action = "indicator.view"
    filter_backends: list = []  # filtering and ranking go through selectors.library_search
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_permissions(self):
        return [*super().get_permissions(), HasWriteAction()]

    def get_queryset(self):
        user = self.request.user
        if self.action == "list":
            params = self.request.query_params
            choice = {
                name: params.get(name, "") if params.get(name, "") in values else ""
                for name, values in (("sector", Sector.values), ("level1", Level1.values), ("level2", Level2.values))
            }
            return selectors.library_search(
                user=user,
                q=params.get("q", ""),
                include_retired=params.get("include_retired", "").lower() in ("1", "true", "yes"),
                **choice,
            )
        return selectors.indicator_detail_queryset(user)

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ProposalDetailSerializer
        return super().get_serializer_class()

    @extend_schema(parameters=SEARCH_PARAMETERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _respond(self, indicator, code=status.HTTP_200_OK):
        return Response(ProposalDetailSerializer(indicator).data, status=code)

    @extend_schema(request=IndicatorWriteSerializer, responses=ProposalDetailSerializer)
    def create(self, request):
        data = self._valid(IndicatorWriteSerializer, request.data)
        indicator = services.indicator_create(actor=request.user, **data)
        return self._respond(indicator, status.HTTP_201_CREATED)

    @extend_schema(request=IndicatorWriteSerializer, responses=ProposalDetailSerializer)
    def partial_update(self, request, pk=None):
        indicator = self.get_object()
        data = self._valid(IndicatorWriteSerializer, request.data, partial=True)
        data.pop("code", None)  # the code is the stable business key
        return self._respond(services.indicator_update(actor=request.user, indicator=indicator, **data))

    @extend_schema(request=ProposalWriteSerializer, responses=ProposalDetailSerializer)
    @action(detail=False, methods=["post"])
    def propose(self, request):
        data = self._valid(ProposalWriteSerializer, request.data)
        return self._respond(services.indicator_propose(actor=request.user, **data), status.HTTP_201_CREATED)

    def _decide(self, request, service, comment_arg: str = "comment"):
        indicator = self.get_object()
        comment = self._valid(DecisionSerializer, request.data)["comment"]
        return self._respond(service(actor=request.user, indicator=indicator, **{comment_arg: comment}))

    @extend_schema(request=DecisionSerializer, responses=ProposalDetailSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        return self._decide(request, services.indicator_retire, "reason")

    @extend_schema(request=DecisionSerializer, responses=ProposalDetailSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        return self._decide(request, services.indicator_restore)

    @extend_schema(request=DecisionSerializer, responses=ProposalDetailSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._decide(request, services.proposal_accept)

    @extend_schema(request=DecisionSerializer, responses=ProposalDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(request, services.proposal_reject)

    @staticmethod
    def _valid(serializer_class, data, partial=False) -> dict:
        serializer = serializer_class(data=data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)
