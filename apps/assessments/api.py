"""事前绩效评估 over the API: the same selectors, services and permission rules as the pages."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api import ScopedViewSetMixin
from apps.funds.models import SpecialFund

from . import selectors, services
from .models import DIMENSIONS, ExAnteAssessment, ExpertOpinion

DIMENSION_FIELDS = [name for name, _ in DIMENSIONS]


class ExpertOpinionSerializer(serializers.ModelSerializer):
    expert_name = serializers.CharField(source="expert.display_name", read_only=True)
    recommended_conclusion_display = serializers.CharField(source="get_recommended_conclusion_display", read_only=True)

    class Meta:
        model = ExpertOpinion
        fields = [
            "id",
            "expert",
            "expert_name",
            "opinion",
            "recommended_conclusion",
            "recommended_conclusion_display",
            "submitted_at",
            "assigned_at",
        ]
        read_only_fields = fields


class ExAnteAssessmentSerializer(serializers.ModelSerializer):
    fund_code = serializers.CharField(source="fund.code", read_only=True)
    fund_name = serializers.CharField(source="fund.name", read_only=True)
    fiscal_year = serializers.IntegerField(source="fund.fiscal_year_id", read_only=True)
    department = serializers.IntegerField(source="fund.department_id", read_only=True)
    department_name = serializers.CharField(source="fund.department.name", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    amount = serializers.DecimalField(source="fund.total_amount", max_digits=18, decimal_places=2, read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    conclusion_display = serializers.CharField(source="get_conclusion_display", read_only=True)

    class Meta:
        model = ExAnteAssessment
        fields = [
            "id",
            "fund",
            "fund_code",
            "fund_name",
            "fiscal_year",
            "department",
            "department_name",
            "organization",
            "organization_name",
            "amount",
            "status",
            "status_display",
            *DIMENSION_FIELDS,
            "finance_opinion",
            "conclusion",
            "conclusion_display",
            "reviewed_by",
            "completed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ExAnteAssessmentDetailSerializer(ExAnteAssessmentSerializer):
    expert_opinions = ExpertOpinionSerializer(source="visible_opinions", many=True, read_only=True)

    class Meta(ExAnteAssessmentSerializer.Meta):
        fields = [*ExAnteAssessmentSerializer.Meta.fields, "expert_opinions"]
        read_only_fields = fields


# --- inputs: only shape here; the services say in Chinese what is missing or not allowed ---------


class CreateInput(serializers.Serializer):
    fund = serializers.PrimaryKeyRelatedField(
        queryset=SpecialFund.objects.none(),
        error_messages={
            "required": "请指定专项资金。",
            "does_not_exist": "专项资金不存在或不在您的权限范围内。",
            "incorrect_type": "专项资金编号格式不正确。",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")  # absent when the schema is generated
        if request is not None:
            self.fields["fund"].queryset = SpecialFund.objects.restrict(request.user, "fund.view")


class UpdateInput(serializers.Serializer):
    necessity = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    economy = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    target_reasonableness = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    feasibility = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    funding_compliance = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)


class AssignExpertsInput(serializers.Serializer):
    experts = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=selectors.assignable_experts(),  # anyone else is "does not exist", and named to no one
        allow_empty=False,
        error_messages={"required": "请至少选择一位评审专家。", "empty": "请至少选择一位评审专家。"},
    )


class OpinionInput(serializers.Serializer):
    opinion = serializers.CharField(required=False, allow_blank=True, default="")
    recommended_conclusion = serializers.CharField(required=False, allow_blank=True, default="")


class CompleteInput(serializers.Serializer):
    conclusion = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="support / support_adjusted / reject"
    )
    finance_opinion = serializers.CharField(required=False, allow_blank=True, default="")


class ReturnInput(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ExAnteAssessmentViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Assessments the user may see (an expert: only those assigned); writes go through the services.

    ``POST`` creates one for a fund; ``PATCH`` fills in the five dimensions; the steps are
    ``submit``, ``assign_experts``, ``opinion``, ``complete`` and ``return``."""

    queryset = ExAnteAssessment.objects.all()
    scope_action = "assessment.view"
    http_method_names = ["get", "post", "patch", "head", "options"]
    filterset_fields = ["status", "conclusion", "fund", "fund__fiscal_year"]
    search_fields = ["fund__name", "fund__code"]
    ordering_fields = ["created_at", "updated_at"]

    def get_serializer_class(self):
        return ExAnteAssessmentSerializer if self.action == "list" else ExAnteAssessmentDetailSerializer

    def optimize(self, queryset):
        queryset = queryset.select_related(
            "fund__department", "organization", "fund__fiscal_year", "fund__organization"
        ).order_by("-created_at", "-pk")
        if self.action != "list":
            queryset = selectors.with_opinions(queryset, user=self.request.user)
        return queryset

    def _respond(self, assessment, code=status.HTTP_200_OK):
        fresh = self.get_queryset().filter(pk=assessment.pk).first()
        return Response(self.get_serializer(fresh).data, status=code)

    def _input(self, serializer_class):
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(request=CreateInput, responses=ExAnteAssessmentDetailSerializer)
    def create(self, request):
        data = self._input(CreateInput)
        assessment = services.assessment_create(actor=request.user, fund=data["fund"])
        return self._respond(assessment, status.HTTP_201_CREATED)

    @extend_schema(request=UpdateInput, responses=ExAnteAssessmentDetailSerializer)
    def partial_update(self, request, pk=None):
        assessment = self.get_object()
        data = self._input(UpdateInput)
        assessment = services.assessment_update(actor=request.user, assessment=assessment, **data)
        return self._respond(assessment)

    @extend_schema(request=None, responses=ExAnteAssessmentDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        assessment = services.assessment_submit(actor=request.user, assessment=self.get_object())
        return self._respond(assessment)

    @extend_schema(request=AssignExpertsInput, responses=ExAnteAssessmentDetailSerializer)
    @action(detail=True, methods=["post"])
    def assign_experts(self, request, pk=None):
        assessment = self.get_object()
        data = self._input(AssignExpertsInput)
        assessment = services.assessment_assign_experts(actor=request.user, assessment=assessment, **data)
        return self._respond(assessment)

    @extend_schema(request=OpinionInput, responses=ExAnteAssessmentDetailSerializer)
    @action(detail=True, methods=["post"])
    def opinion(self, request, pk=None):
        assessment = self.get_object()
        data = self._input(OpinionInput)
        services.expert_opinion_submit(actor=request.user, assessment=assessment, **data)
        return self._respond(assessment)

    @extend_schema(request=CompleteInput, responses=ExAnteAssessmentDetailSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        assessment = self.get_object()
        data = self._input(CompleteInput)
        assessment = services.assessment_complete(actor=request.user, assessment=assessment, **data)
        return self._respond(assessment)

    @extend_schema(request=ReturnInput, responses=ExAnteAssessmentDetailSerializer)
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        assessment = self.get_object()
        data = self._input(ReturnInput)
        assessment = services.assessment_return(actor=request.user, assessment=assessment, **data)
        return self._respond(assessment)
