"""Pages and downloads of 单位自评's Excel: the 绩效自评表 of one evaluation, the import of actual
values (and its template), the summary by department and grade. Thin: rows come from ``restrict``
(out of scope → 404), the work from ``excel``."""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View
from django.views.generic import TemplateView

from apps.core import years
from apps.core.views_mixins import ActionRequiredMixin

from . import excel
from .models import SelfEvaluation

ERRORS_SHOWN = 500  # a file with thousands of bad cells lists the first 500 and the count


def _xlsx_response(file, filename: str) -> FileResponse:
    """An .xlsx download; the Chinese name goes in ``filename*`` (RFC 5987). Closing deletes the temp file."""
    response = FileResponse(file, as_attachment=True, filename=filename, content_type=excel.XLSX_CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response


def _year(request) -> int:
    year = years.selected_year(request)
    if year is None:
        raise Http404("尚未设置预算年度。")
    return year


class SelfFormExportView(ActionRequiredMixin, View):
    """One self-evaluation as the 项目支出绩效自评表, for anyone who may see it (audited)."""

    required_action = "selfeval.view"
    http_method_names = ["get"]

    def get(self, request, pk):
        evaluation = get_object_or_404(
            SelfEvaluation.objects.restrict(request.user, "selfeval.view").select_related(
                "fund__department", "organization", "round__organization", "target"
            ),
            pk=pk,
        )
        return _xlsx_response(*excel.self_form_export(actor=request.user, evaluation=evaluation))


class FillImportView(ActionRequiredMixin, View):
    """A unit or department uploads the actual values of its self-evaluations; all rows or none."""

    required_action = "selfeval.fill"
    http_method_names = ["get", "post"]

    def page(self, *, status: int = 200, problems=(), cell_errors=()):
        year = _year(self.request)
        context = {
            "year": year,
            "fillable": excel.fillable(self.request.user, year).count(),
            "problems": problems,
            "cell_errors": cell_errors[:ERRORS_SHOWN],
            "error_count": len(cell_errors),
            "hidden_errors": max(len(cell_errors) - ERRORS_SHOWN, 0),
            "execution_sheet": excel.EXECUTION_SHEET,
            "lines_sheet": excel.LINES_SHEET,
        }
        return render(self.request, "evaluations/excel_import.html", context, status=status)

    def get(self, request):
        return self.page()

    def post(self, request):
        try:
            done = excel.fill_import(actor=request.user, upload=request.FILES.get("file"))
        except excel.ImportRefused as exc:
            return self.page(status=400, problems=exc.problems, cell_errors=exc.cell_errors)
        messages.success(
            request, f"已导入 {done.evaluations} 个项目的单位自评（{done.lines} 项指标），得分已按计分规则重新计算。"
        )
        return redirect("evaluations:excel_import")


class FillTemplateView(ActionRequiredMixin, View):
    """The file to fill: every self-evaluation the user may fill now, with its current values."""

    required_action = "selfeval.fill"
    http_method_names = ["get"]

    def get(self, request):
        return _xlsx_response(*excel.fill_template(actor=request.user, year=_year(request)))


class SummaryView(ActionRequiredMixin, TemplateView):
    """The year's self-evaluations in the user's scope by department and by grade."""

    required_action = "selfeval.view"
    template_name = "evaluations/excel_summary.html"

    def get_context_data(self, **kwargs):
        scope = self.request.GET.get("scope", "all")
        data = excel.summary(self.request.user, _year(self.request), scope)
        total = data.total
        grades = [
            (b, data.share(b), (b.evaluations * 100 // total.evaluations) if total.evaluations else 0)
            for b in data.grades
        ]
        return super().get_context_data(data=data, grades=grades, scopes=excel.SCOPES, **kwargs)


class SummaryExportView(ActionRequiredMixin, View):
    required_action = "selfeval.view"
    http_method_names = ["get"]

    def get(self, request):
        scope = request.GET.get("scope", "all")
        return _xlsx_response(*excel.summary_export(actor=request.user, year=_year(request), scope=scope))
