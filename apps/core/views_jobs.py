"""Pages of background jobs: the organisation's job history, one job's progress (polled by htmx
every second until it has finished) and the download of its result file.

Rows come from ``jobs.visible_jobs`` (``job.view``, the user's own organisation): a job of another
organisation is 404, a role without ``job.view`` gets 403.
"""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404
from django.views import View
from django.views.generic import TemplateView

from .jobs import result_file_response, visible_jobs
from .models import BackgroundJob
from .views_mixins import ActionRequiredMixin, htmx_template


class JobListView(ActionRequiredMixin, TemplateView):
    """后台任务 / 导出记录: the jobs of the user's organisation, newest first."""

    required_action = "job.view"
    template_name = "core/job_list.html"
    page_size = 30

    def get_context_data(self, **kwargs):
        user = self.request.user
        jobs = visible_jobs(user).select_related("created_by")
        kind = self.request.GET.get("kind", "")
        if kind:
            jobs = jobs.filter(kind=kind)
        status = self.request.GET.get("status", "")
        if status in BackgroundJob.Status.values:
            jobs = jobs.filter(status=status)
        page = Paginator(jobs, self.page_size).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(
            page=page,
            query=query.urlencode(),
            status=status,
            statuses=BackgroundJob.Status.choices,
            **kwargs,
        )


class JobDetailView(ActionRequiredMixin, TemplateView):
    """One job with its progress bar; htmx requests get the progress panel only."""

    required_action = "job.view"

    def get_template_names(self):
        return [htmx_template(self.request, "core/job_detail.html", "core/partials/job_progress.html")]

    def get_context_data(self, **kwargs):
        job = get_object_or_404(visible_jobs(self.request.user).select_related("created_by"), pk=self.kwargs["pk"])
        back_url = job.params.get("back_url", "") if isinstance(job.params, dict) else ""
        return super().get_context_data(job=job, back_url=back_url, **kwargs)


class JobDownloadView(ActionRequiredMixin, View):
    """The job's result file, with its Chinese file name (``filename*``, RFC 5987); audited
    (``jobs.result_file_response``, shared with ``/api/v1/jobs/<pk>/download/``)."""

    required_action = "job.view"
    http_method_names = ["get"]

    def get(self, request, pk):
        job = get_object_or_404(visible_jobs(request.user), pk=pk)
        return result_file_response(actor=request.user, job=job)
