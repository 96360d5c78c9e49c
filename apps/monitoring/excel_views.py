"""Pages and downloads of 双监控's Excel: execution import (and its template), the 绩效运行监控表 of
one report, the round's summary. Thin: rows come from ``restrict`` (out of scope → 404), work from
``excel``."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Max
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import cached_property
from django.views import View

from apps.core.views_mixins import ActionRequiredMixin

from . import excel
from .models import MonitoringReport, MonitoringRound

ERRORS_SHOWN = 500  # a file with thousands of bad rows lists the first 500 and the count


def _xlsx_response(file, filename: str) -> FileResponse:
    """An .xlsx download; the Chinese name goes in ``filename*`` (RFC 5987). Closing deletes the temp file."""
    response = FileResponse(file, as_attachment=True, filename=filename, content_type=excel.XLSX_CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response


class RoundMixin(ActionRequiredMixin):
    """The round from the user's scope for ``round_action`` (default ``required_action``; another
    region → 404)."""

    http_method_names = ["get"]
    round_action = ""

    @cached_property
    def round(self) -> MonitoringRound:
        action = self.round_action or self.required_action
        return get_object_or_404(
            MonitoringRound.objects.restrict(self.request.user, action).select_related("organization__region"),
            pk=self.kwargs["pk"],
        )


class ExecutionImportView(RoundMixin, View):
    """Finance uploads the treasury's executed amounts for the whole round; all rows or none."""

    required_action = "monitoring.manage"
    http_method_names = ["get", "post"]

    def page(self, *, status: int = 200, problems=(), cell_errors=()):
        round_ = self.round
        stats = MonitoringReport.objects.filter(round=round_).aggregate(
            reports=Count("pk"), imported=Count("imported_executed_amount"), last=Max("imported_at")
        )
        context = {
            "round": round_,
            "stats": stats,
            "closed": round_.status == MonitoringRound.Status.CLOSED,
            "problems": problems,
            "cell_errors": cell_errors[:ERRORS_SHOWN],
            "error_count": len(cell_errors),
            "hidden_errors": max(len(cell_errors) - ERRORS_SHOWN, 0),
            "code_aliases": excel.CODE_ALIASES,
            "amount_aliases": excel.AMOUNT_ALIASES,
        }
        return render(self.request, "monitoring/execution_import.html", context, status=status)

    def get(self, request, pk):
        return self.page()

    def post(self, request, pk):
        try:
            count = excel.execution_import(actor=request.user, round=self.round, file=request.FILES.get("file"))
        except excel.ImportRefused as exc:
            return self.page(status=400, problems=exc.problems, cell_errors=exc.cell_errors)
        except ValidationError as exc:
            return self.page(status=400, problems=exc.messages)
        messages.success(request, f"已导入 {count} 个项目的国库支付系统执行数。")
        return redirect("monitoring:round_detail", pk=pk)


class ExecutionTemplateView(RoundMixin, View):
    """The file to fill: the round's fund codes, amount column empty."""

    required_action = "monitoring.manage"

    def get(self, request, pk):
        return _xlsx_response(*excel.execution_template(actor=request.user, round=self.round))


class ReportExportView(ActionRequiredMixin, View):
    """One report as the 项目支出绩效运行监控表, for anyone who may see it (audited)."""

    required_action = "monitoring.view"
    http_method_names = ["get"]

    def get(self, request, pk):
        report = get_object_or_404(
            MonitoringReport.objects.restrict(request.user, "monitoring.view").select_related(
                "fund__department", "organization", "round"
            ),
            pk=pk,
        )
        return _xlsx_response(*excel.report_export(actor=request.user, report=report))


class SummaryExportView(RoundMixin, View):
    """The round's summary by department, limited to the reports the user may see (audited): the
    region's finance gets every department, a department its own funds."""

    required_action = "monitoring.view"
    round_action = "monitoring.round"

    def get(self, request, pk):
        return _xlsx_response(*excel.summary_export(actor=request.user, round=self.round))
