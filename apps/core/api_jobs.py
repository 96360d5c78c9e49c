"""Background jobs in the API: follow a job's progress and find its result file (read-only).

Register in ``qdperf/urls.py``: ``router.register("jobs", JobViewSet, basename="job")``.
Rows are those of ``jobs.visible_jobs`` (``job.view``, the user's own organisation).
"""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action

from .api import FileDownloadNegotiation, ScopedReadOnlyViewSet
from .jobs import result_file_response, visible_jobs
from .models import BackgroundJob


class BackgroundJobSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    percent = serializers.IntegerField(read_only=True, help_text="进度（%）")
    finished = serializers.BooleanField(read_only=True, help_text="已结束（完成或失败）")
    created_by_name = serializers.CharField(source="created_by.display_name", read_only=True)
    download_url = serializers.SerializerMethodField(
        help_text="结果文件的下载地址（/api/v1/jobs/{id}/download/，令牌或网页会话均可）；未完成或无文件时为 null"
    )

    class Meta:
        model = BackgroundJob
        fields = [
            "id", "kind", "label", "status", "status_display", "done", "total", "percent", "finished", "message",
            "result_name", "download_url", "organization", "created_by", "created_by_name", "created_at",
            "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_download_url(self, job) -> str | None:
        if job.status != BackgroundJob.Status.DONE or not job.result_file:
            return None
        return reverse("api:job-download", args=[job.pk])


class JobViewSet(ScopedReadOnlyViewSet):
    """后台任务：进度与结果（本机构发起的任务）。"""

    queryset = BackgroundJob.objects.all()
    serializer_class = BackgroundJobSerializer
    scope_action = "job.view"
    filterset_fields = ["kind", "status"]
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return visible_jobs(self.request.user).select_related("created_by")

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="结果文件"),
            404: OpenApiResponse(description="任务不存在、不在查看范围内，或没有可下载的结果文件"),
        }
    )
    @action(detail=True, methods=["get"], content_negotiation_class=FileDownloadNegotiation)
    def download(self, request, pk=None):
        """下载任务的结果文件（中文文件名；记入审计日志）。"""
        return result_file_response(actor=request.user, job=self.get_object())
