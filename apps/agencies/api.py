"""第三方机构与专家库 API: registry, conflict ties, assignments, "my jobs" and quality appraisals.

Thin: rows come from ``restrict`` (an out-of-scope id is 404), every write goes through the same
services as the pages, so the API refuses exactly what the pages refuse, with the same messages.
Registry entries are never deleted (suspend instead): there is no DELETE on agencies and experts.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from apps.assessments.models import ExAnteAssessment
from apps.core.api import HasScopeAction, ScopedViewSetMixin
from apps.evaluations.models import KeyEvaluation
from apps.orgs.models import Organization

from . import jobs, selectors, services
from .models import Agency, AgencyAppraisal, AppraisalCriterion, AppraisalScore, ConflictRelation, ConflictTie, Expert

STATUS_HELP = "active 正常 | suspended 暂停"
SCORE = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)


def _scoped_pk(queryset, name: str):
    return serializers.PrimaryKeyRelatedField(
        queryset=queryset,
        required=False,
        allow_null=True,
        error_messages={
            "does_not_exist": f"{name}不存在或不在您的权限范围内。",
            "incorrect_type": f"{name}编号格式不正确。",
        },
    )


class ActionPermission(HasScopeAction):
    """``scope_action`` per viewset action: reading needs the view action, writing the manage one."""

    def has_permission(self, request, view):
        view.scope_action = view.action_for(view.action)
        return super().has_permission(request, view)


class RegistryMixin(ScopedViewSetMixin):
    permission_classes = [ActionPermission]
    read_action = "registry.view"
    write_action = "registry.manage"
    scope_action = "registry.view"

    def action_for(self, name: str | None) -> str:
        return self.read_action if name in (None, "list", "retrieve", "metadata") else self.write_action

    def _input(self, serializer_class, partial=False):
        payload = serializer_class(data=self.request.data, partial=partial, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        return dict(payload.validated_data)


# --- agencies ----------------------------------------------------------------------------------


class AgencySerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text=STATUS_HELP)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True, default=None)
    registered_by_name = serializers.CharField(source="registered_by.name", read_only=True)
    appraisal_count = serializers.IntegerField(read_only=True, help_text="您可见的质量考评次数")
    appraisal_average = serializers.DecimalField(
        max_digits=5, decimal_places=2, read_only=True, allow_null=True, help_text="您可见的质量考评平均总分"
    )

    class Meta:
        model = Agency
        fields = [
            "id", "name", "credit_code", "qualifications", "contact_person", "phone", "email", "address",
            "organization", "organization_name", "status", "status_display", "status_reason", "registered_by",
            "registered_by_name", "created_at", "appraisal_count", "appraisal_average",
        ]  # fmt: skip
        read_only_fields = fields


class JobSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="key_evaluation | assessment")
    id = serializers.IntegerField()
    name = serializers.CharField()
    department = serializers.IntegerField()
    department_name = serializers.CharField()
    fiscal_year = serializers.IntegerField()
    status = serializers.CharField()
    status_display = serializers.CharField()
    appraised = serializers.BooleanField()


class TieSerializer(serializers.ModelSerializer):
    agency_name = serializers.CharField(source="agency.name", read_only=True, default=None)
    expert_name = serializers.CharField(source="expert.name", read_only=True, default=None)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    relation_name = serializers.CharField(source="relation.name", read_only=True)
    relation_active = serializers.BooleanField(source="relation.is_active", read_only=True)

    class Meta:
        model = ConflictTie
        fields = [
            "id", "agency", "agency_name", "expert", "expert_name", "organization", "organization_name", "relation",
            "relation_name", "relation_active", "note", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class AgencyDetailSerializer(AgencySerializer):
    ties = serializers.SerializerMethodField()
    jobs = serializers.SerializerMethodField(help_text="委托项目（您可见的重点评价与事前绩效评估）")

    class Meta(AgencySerializer.Meta):
        fields = [*AgencySerializer.Meta.fields, "ties", "jobs"]
        read_only_fields = fields

    @extend_schema_field(TieSerializer(many=True))
    def get_ties(self, obj):
        return TieSerializer(selectors.ties_of(agency=obj).select_related("agency", "expert"), many=True).data

    @extend_schema_field(JobSerializer(many=True))
    def get_jobs(self, obj):
        history = selectors.agency_jobs(user=self.context["request"].user, agency=obj)
        rows = [
            kind.row(job, appraised=job.appraised)
            for kind, key in zip(jobs.JOB_KINDS, ("key_evaluations", "assessments"), strict=True)
            for job in history[key]
        ]
        return JobSerializer(rows, many=True).data


class AgencyInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, allow_blank=True)
    credit_code = serializers.CharField(max_length=30, allow_blank=True, help_text="统一社会信用代码，18位")
    qualifications = serializers.CharField(required=False, allow_blank=True, default="")
    contact_person = serializers.CharField(required=False, allow_blank=True, max_length=50, default="")
    phone = serializers.CharField(required=False, allow_blank=True, max_length=30, default="")
    email = serializers.CharField(required=False, allow_blank=True, max_length=254, default="")
    address = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    organization = _scoped_pk(Organization.objects.none(), "组织")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["organization"].queryset = Organization.objects.restrict(request.user, "org.view").filter(
                kind=Organization.Kind.AGENCY
            )


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class CommentInput(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class AgencyViewSet(
    RegistryMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """第三方机构: read with 查看机构与专家库, write (create, PATCH, suspend, reactivate) with 登记/修改."""

    queryset = Agency.objects.all()
    http_method_names = ["get", "post", "patch", "head", "options"]
    filterset_fields = ["status"]
    search_fields = ["name", "credit_code", "qualifications", "contact_person"]

    def get_serializer_class(self):
        return AgencyDetailSerializer if self.action == "retrieve" else AgencySerializer

    def get_queryset(self):
        return selectors.agency_list(user=self.request.user, action=self.action_for(self.action))

    def _reply(self, agency, code=status.HTTP_200_OK):
        fresh = selectors.agency_list(user=self.request.user).get(pk=agency.pk)
        return Response(AgencyDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=AgencyInput, responses={201: AgencyDetailSerializer})
    def create(self, request):
        agency = services.agency_create(actor=request.user, **self._input(AgencyInput))
        return self._reply(agency, status.HTTP_201_CREATED)

    @extend_schema(request=AgencyInput, responses=AgencyDetailSerializer)
    def partial_update(self, request, pk=None):
        agency = self.get_object()
        data = self._input(AgencyInput, partial=True)
        return self._reply(services.agency_update(actor=request.user, agency=agency, **data))

    @extend_schema(request=ReasonInput, responses=AgencyDetailSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        """暂停委托 {reason}（原因必填）."""
        data = self._input(ReasonInput)
        return self._reply(services.agency_suspend(actor=request.user, agency=self.get_object(), **data))

    @extend_schema(request=CommentInput, responses=AgencyDetailSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None):
        """恢复委托."""
        data = self._input(CommentInput)
        return self._reply(services.agency_reactivate(actor=request.user, agency=self.get_object(), **data))


# --- experts -----------------------------------------------------------------------------------


class ExpertSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text=STATUS_HELP)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    employer_organization_name = serializers.CharField(
        source="employer_organization.name", read_only=True, default=None
    )
    username = serializers.CharField(source="user.username", read_only=True, default=None)
    registered_by_name = serializers.CharField(source="registered_by.name", read_only=True)

    class Meta:
        model = Expert
        fields = [
            "id", "name", "fields", "employer", "employer_organization", "employer_organization_name", "title",
            "phone", "user", "username", "status", "status_display", "registered_by", "registered_by_name",
            "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class ExpertDetailSerializer(ExpertSerializer):
    ties = serializers.SerializerMethodField()

    class Meta(ExpertSerializer.Meta):
        fields = [*ExpertSerializer.Meta.fields, "ties"]
        read_only_fields = fields

    @extend_schema_field(TieSerializer(many=True))
    def get_ties(self, obj):
        return TieSerializer(selectors.ties_of(expert=obj).select_related("agency", "expert"), many=True).data


class ExpertInput(serializers.Serializer):
    name = serializers.CharField(max_length=50, allow_blank=True)
    fields = serializers.CharField(max_length=200, allow_blank=True, help_text="专业领域，多个用顿号分隔")
    employer = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    employer_organization = _scoped_pk(Organization.objects.none(), "工作单位")
    title = serializers.CharField(required=False, allow_blank=True, max_length=50, default="")
    phone = serializers.CharField(required=False, allow_blank=True, max_length=30, default="")
    user = _scoped_pk(services.linkable_expert_users(), "登录账号")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["employer_organization"].queryset = selectors.employer_organizations(request.user)


class ExpertViewSet(RegistryMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """评审专家: ``?search=`` finds by name, field (专业领域), employer or title."""

    queryset = Expert.objects.all()
    http_method_names = ["get", "post", "patch", "head", "options"]
    filterset_fields = ["status"]
    search_fields = ["name", "fields", "employer", "title"]

    def get_serializer_class(self):
        return ExpertDetailSerializer if self.action == "retrieve" else ExpertSerializer

    def get_queryset(self):
        return selectors.expert_list(user=self.request.user, action=self.action_for(self.action))

    def _reply(self, expert, code=status.HTTP_200_OK):
        fresh = selectors.expert_list(user=self.request.user).get(pk=expert.pk)
        return Response(ExpertDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=ExpertInput, responses={201: ExpertDetailSerializer})
    def create(self, request):
        expert = services.expert_create(actor=request.user, **self._input(ExpertInput))
        return self._reply(expert, status.HTTP_201_CREATED)

    @extend_schema(request=ExpertInput, responses=ExpertDetailSerializer)
    def partial_update(self, request, pk=None):
        expert = self.get_object()
        data = self._input(ExpertInput, partial=True)
        return self._reply(services.expert_update(actor=request.user, expert=expert, **data))

    @extend_schema(request=ReasonInput, responses=ExpertDetailSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        data = self._input(ReasonInput)
        return self._reply(services.expert_suspend(actor=request.user, expert=self.get_object(), **data))

    @extend_schema(request=CommentInput, responses=ExpertDetailSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None):
        data = self._input(CommentInput)
        return self._reply(services.expert_reactivate(actor=request.user, expert=self.get_object(), **data))


# --- ties, relation types, appraisal items ----------------------------------------------------


class TieInput(serializers.Serializer):
    agency = _scoped_pk(Agency.objects.none(), "第三方机构")
    expert = _scoped_pk(Expert.objects.none(), "专家")
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.none(),
        error_messages={"required": "请选择关联的部门或单位。", "does_not_exist": "关联的部门或单位不存在。"},
    )
    relation = serializers.PrimaryKeyRelatedField(
        queryset=ConflictRelation.objects.all(),
        error_messages={"required": "请选择关系类型。", "does_not_exist": "关系类型不存在。"},
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            user = request.user
            self.fields["agency"].queryset = Agency.objects.restrict(user, "registry.manage")
            self.fields["expert"].queryset = Expert.objects.restrict(user, "registry.manage")
            self.fields["organization"].queryset = selectors.tie_organizations(user)


class ConflictTieViewSet(
    RegistryMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """利益关联 of agencies and experts (follow their subject's scope); POST adds, DELETE removes."""

    queryset = ConflictTie.objects.all()
    serializer_class = TieSerializer
    filterset_fields = ["agency", "expert", "organization", "relation"]

    def get_queryset(self):
        return (
            selectors.visible_ties(self.request.user, self.action_for(self.action))
            .select_related("agency", "expert", "organization", "relation")
            .order_by("pk")
        )

    @extend_schema(request=TieInput, responses={201: TieSerializer})
    def create(self, request):
        tie = services.tie_add(actor=request.user, **self._input(TieInput))
        return Response(TieSerializer(self.get_queryset().get(pk=tie.pk)).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.tie_remove(actor=self.request.user, tie=instance)


class ConflictRelationSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConflictRelation
        fields = ["id", "name", "is_active", "sort_order"]
        read_only_fields = fields


class ConflictRelationViewSet(RegistryMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """利益冲突关系类型 (configured in the admin; inactive types are not counted as conflicts)."""

    queryset = ConflictRelation.objects.all()
    serializer_class = ConflictRelationSerializer
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return ConflictRelation.objects.order_by("sort_order", "name")


class AppraisalCriterionSerializer(serializers.ModelSerializer):
    class Meta:
        model = AppraisalCriterion
        fields = ["id", "name", "max_points", "is_active", "sort_order"]
        read_only_fields = fields


class AppraisalCriterionViewSet(RegistryMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """机构考评项目 (configured in the admin); an appraisal scores every active item."""

    queryset = AppraisalCriterion.objects.all()
    serializer_class = AppraisalCriterionSerializer
    read_action = "appraisal.view"
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return AppraisalCriterion.objects.order_by("sort_order", "pk")


# --- appraisals --------------------------------------------------------------------------------


class AppraisalScoreSerializer(serializers.ModelSerializer):
    criterion_name = serializers.CharField(source="criterion.name", read_only=True)

    class Meta:
        model = AppraisalScore
        fields = ["criterion", "criterion_name", "max_points", "points", "comment"]
        read_only_fields = fields


class AgencyAppraisalSerializer(serializers.ModelSerializer):
    agency_name = serializers.CharField(source="agency.name", read_only=True)
    job_name = serializers.SerializerMethodField()
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    appraised_by_name = serializers.CharField(source="appraised_by.display_name", read_only=True)
    scores = AppraisalScoreSerializer(many=True, read_only=True)

    class Meta:
        model = AgencyAppraisal
        fields = [
            "id", "agency", "agency_name", "key_evaluation", "assessment", "job_name", "organization",
            "organization_name", "total", "comments", "appraised_by", "appraised_by_name", "appraised_at", "scores",
        ]  # fmt: skip
        read_only_fields = fields

    def get_job_name(self, obj) -> str:
        return str(obj.key_evaluation if obj.key_evaluation_id else obj.assessment)


class ScoreInput(serializers.Serializer):
    criterion = serializers.IntegerField(help_text="考评项目 id")
    points = serializers.CharField(allow_blank=True, help_text="得分，0 至该项分值")
    comment = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class AppraisalInput(serializers.Serializer):
    agency = serializers.PrimaryKeyRelatedField(
        queryset=Agency.objects.none(),
        error_messages={"required": "请指定第三方机构。", "does_not_exist": "第三方机构不存在或不在您的权限范围内。"},
    )
    key_evaluation = _scoped_pk(KeyEvaluation.objects.none(), "重点评价")
    assessment = _scoped_pk(ExAnteAssessment.objects.none(), "事前绩效评估")
    scores = ScoreInput(many=True)
    comments = serializers.CharField(required=False, allow_blank=True, default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            user = request.user
            self.fields["agency"].queryset = Agency.objects.restrict(user, "registry.view")
            self.fields["key_evaluation"].queryset = KeyEvaluation.objects.restrict(user, "appraisal.manage")
            self.fields["assessment"].queryset = ExAnteAssessment.objects.restrict(user, "appraisal.manage")


class AgencyAppraisalViewSet(RegistryMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """质量考评: list/read with 查看考评, create with 考评 (one per completed job, its agency only)."""

    queryset = AgencyAppraisal.objects.all()
    serializer_class = AgencyAppraisalSerializer
    read_action = "appraisal.view"
    write_action = "appraisal.manage"
    filterset_fields = ["agency", "key_evaluation", "assessment"]

    def get_queryset(self):
        return selectors.appraisal_detail_queryset(self.request.user)

    @extend_schema(request=AppraisalInput, responses={201: AgencyAppraisalSerializer})
    def create(self, request):
        data = self._input(AppraisalInput)
        rows = data.pop("scores")
        appraisal = services.appraisal_record(
            actor=request.user,
            scores={row["criterion"]: row["points"] for row in rows},
            score_comments={row["criterion"]: row["comment"] for row in rows},
            **data,
        )
        fresh = self.get_queryset().get(pk=appraisal.pk)
        return Response(AgencyAppraisalSerializer(fresh).data, status=status.HTTP_201_CREATED)


# --- assignments -------------------------------------------------------------------------------


class AssignedExpertSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="专家库中的专家 id（未登记的账号为 null）")
    name = serializers.CharField()
    user = serializers.IntegerField(allow_null=True)


class AssignmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    department = serializers.IntegerField()
    department_name = serializers.CharField()
    status = serializers.CharField()
    status_display = serializers.CharField()
    agency = serializers.IntegerField(allow_null=True)
    agency_name = serializers.CharField(allow_null=True)
    experts = AssignedExpertSerializer(many=True)


class CandidateSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="obj.pk")
    name = serializers.CharField(source="obj.name")
    status = serializers.CharField(source="obj.status")
    assigned = serializers.BooleanField()
    conflicts = serializers.ListField(child=serializers.CharField(), source="reasons", help_text="不能委托/指派的原因")


class CandidatesSerializer(serializers.Serializer):
    agencies = CandidateSerializer(many=True)
    experts = CandidateSerializer(many=True)


class AssignInput(serializers.Serializer):
    agency = _scoped_pk(Agency.objects.none(), "第三方机构")
    experts = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=Expert.objects.none(),
        error_messages={"does_not_exist": "专家不存在或不在您的权限范围内。"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["agency"].queryset = Agency.objects.restrict(request.user, "registry.view")
            self.fields["experts"].child_relation.queryset = Expert.objects.restrict(request.user, "registry.view")


class WithdrawInput(AssignInput):
    agency = serializers.BooleanField(required=False, default=False, help_text="撤销对第三方机构的委托")


class AssignmentViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """委托第三方机构与指派专家 of one kind of job (``job_kind``, given when the route is registered)."""

    permission_classes = [HasScopeAction]
    serializer_class = AssignmentSerializer
    filter_backends = []
    pagination_class = None
    job_kind: jobs.JobKind = jobs.KEY_EVALUATION

    @property
    def scope_action(self) -> str:
        return self.job_kind.assign_action

    def get_queryset(self):
        return self.job_kind.queryset(self.request.user)

    def _input(self, serializer_class):
        payload = serializer_class(data=self.request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        return dict(payload.validated_data)

    def describe(self, job) -> dict:
        return {
            **self.job_kind.row(job),
            "agency": job.agency_id,
            "agency_name": job.agency.name if job.agency_id else None,
            "experts": [{k: e[k] for k in ("id", "name", "user")} for e in self.job_kind.experts(job)],
        }

    def _reply(self, job):
        return Response(AssignmentSerializer(self.describe(self.get_queryset().get(pk=job.pk))).data)

    def retrieve(self, request, pk=None):
        return Response(AssignmentSerializer(self.describe(self.get_object())).data)

    @extend_schema(
        parameters=[OpenApiParameter("q", OpenApiTypes.STR, description="按姓名、专业领域、工作单位搜索专家")],
        responses=CandidatesSerializer,
    )
    @action(detail=True, methods=["get"])
    def candidates(self, request, pk=None):
        """每个可见的机构与专家，附不能委托/指派的原因（回避、暂停）."""
        job = self.get_object()
        agencies, experts = selectors.assignment_candidates(
            user=request.user,
            department=self.job_kind.department(job),
            q=request.query_params.get("q", "").strip(),
            assigned_agency_id=job.agency_id,
            assigned_expert_ids=[e["id"] for e in self.job_kind.experts(job) if e["id"]],
        )
        return Response(CandidatesSerializer({"agencies": agencies, "experts": experts}).data)

    @extend_schema(request=AssignInput, responses=AssignmentSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """委托 {agency} 和/或指派 {experts}; 与被评价部门有利益关联或已暂停的，拒绝并说明原因.

        事前绩效评估的专家须有登录账号."""
        job = self.get_object()
        data = self._input(AssignInput)
        job = self.job_kind.assign(
            actor=request.user, job=job, agency=data.get("agency"), experts=data.get("experts", [])
        )
        return self._reply(job)

    @extend_schema(request=WithdrawInput, responses=AssignmentSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """撤销委托 {agency: true} 和/或指派 {experts}; 相关人员不再能查看该项目.

        事前绩效评估只能撤销机构委托（专家指派后须提交评审意见）."""
        job = self.get_object()
        data = self._input(WithdrawInput)
        job = self.job_kind.withdraw(
            actor=request.user, job=job, agency=data.get("agency", False), experts=data.get("experts", [])
        )
        return self._reply(job)


class KeyEvaluationAssignmentViewSet(AssignmentViewSet):
    """委托第三方机构与指派专家（重点评价）; ``id`` is the key evaluation's."""

    job_kind = jobs.KEY_EVALUATION


class AssessmentAssignmentViewSet(AssignmentViewSet):
    """委托第三方机构与指派专家（事前绩效评估）; ``id`` is the assessment's."""

    job_kind = jobs.ASSESSMENT


# --- my assignments ----------------------------------------------------------------------------


class IsAssignee(BasePermission):
    message = "该接口供第三方机构人员和评审专家使用。"

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated) and (
            selectors.object_only(user, "evaluation.view") or selectors.object_only(user, "assessment.view")
        )


class MyJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    department = serializers.IntegerField()
    department_name = serializers.CharField()
    fiscal_year = serializers.IntegerField()
    status = serializers.CharField()
    status_display = serializers.CharField()
    as_expert = serializers.BooleanField(help_text="true: 指派给本人的专家任务；false: 委托给本机构")
    agency_name = serializers.CharField(allow_null=True)


class MyAssignmentsSerializer(serializers.Serializer):
    key_evaluations = MyJobSerializer(many=True)
    assessments = MyJobSerializer(many=True)


class MyAssignmentViewSet(viewsets.GenericViewSet):
    """我的评价任务: what the signed-in agency staff member or expert is assigned to."""

    permission_classes = [IsAssignee]
    serializer_class = MyAssignmentsSerializer
    filter_backends = []
    pagination_class = None

    def get_queryset(self):
        return KeyEvaluation.objects.none()

    @extend_schema(responses=MyAssignmentsSerializer)
    def list(self, request):
        user = request.user

        def rows(kind, queryset):
            return [
                kind.row(j, as_expert=j.as_expert, agency_name=j.agency.name if j.agency_id else None) for j in queryset
            ]

        key = rows(jobs.KEY_EVALUATION, selectors.my_key_evaluations(user))
        assessments = rows(jobs.ASSESSMENT, selectors.my_assessments(user))
        return Response(MyAssignmentsSerializer({"key_evaluations": key, "assessments": assessments}).data)
