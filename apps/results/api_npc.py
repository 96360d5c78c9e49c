"""API of 报人大 under /api/v1/ (namespace ``api``): start an NPC workbook export and list the export
history. Progress and the file are the existing ``/api/v1/jobs/<id>/`` endpoints (``download_url``
there, once the job is done). Scoped like the page: ``npc.export`` or 403; a region outside the
user's scope is 403 and starts nothing."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.viewsets import GenericViewSet

from apps.core.api import HasScopeAction
from apps.core.api_jobs import BackgroundJobSerializer
from apps.core.models import BackgroundJob

from . import selectors_npc as sel
from . import services_npc as services
from .selectors_npc import ReportSet

router = SimpleRouter()


class NpcExportRequestSerializer(serializers.Serializer):
    region = serializers.CharField(
        help_text="区域行政区划代码（如 370200 市本级），或 all 表示全市（含各区市，仅市财政绩效管理处）"
    )
    year = serializers.IntegerField(help_text="预算年度")
    sets = serializers.ListField(
        child=serializers.ChoiceField(choices=ReportSet.choices),
        allow_empty=False,
        default=list(ReportSet.values),
        help_text="报表内容（可多选，默认全部）",
    )


class NpcExportJobSerializer(BackgroundJobSerializer):
    # Plain text here (same values): a second component with the job status enum makes
    # drf-spectacular's enum naming collide with other apps' "status" enums.
    status = serializers.CharField(
        read_only=True, help_text="状态：queued 排队中 / running 运行中 / done 已完成 / failed 失败"
    )
    sets = serializers.SerializerMethodField(help_text="报表内容")
    status_url = serializers.SerializerMethodField(help_text="查询进度的接口地址（GET）")
    page_url = serializers.SerializerMethodField(help_text="网页上的进度页")

    class Meta(BackgroundJobSerializer.Meta):
        fields = [*BackgroundJobSerializer.Meta.fields, "sets", "status_url", "page_url"]
        read_only_fields = fields

    def get_sets(self, job) -> list[str]:
        return list(job.params.get("sets", [])) if isinstance(job.params, dict) else []

    def get_status_url(self, job) -> str:
        return reverse("api:job-detail", args=[job.pk])

    def get_page_url(self, job) -> str:
        return reverse("jobs:job_detail", args=[job.pk])


class RegionChoiceSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class NpcExportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """报人大报表导出：发起导出（后台任务）、本机构的导出记录。"""

    queryset = BackgroundJob.objects.all()
    serializer_class = NpcExportJobSerializer
    permission_classes = [HasScopeAction]
    scope_action = sel.ACTION

    def get_queryset(self):
        return services.npc_history(self.request.user)

    @extend_schema(request=NpcExportRequestSerializer, responses={201: NpcExportJobSerializer})
    def create(self, request, *args, **kwargs):
        data = NpcExportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.npc_export_start(actor=request.user, **data.validated_data)
        job.refresh_from_db()  # an eager run has finished already
        return Response(NpcExportJobSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=RegionChoiceSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None)
    def regions(self, request):
        """可选择的报送区域（本区域；市财政绩效管理处为全市及各区市）。"""
        return Response([{"code": code, "name": name} for code, name in sel.export_regions(request.user)])


router.register("npc-exports", NpcExportViewSet, basename="npc-export")
