"""分析看板 pages: the finance / department dashboard, the city comparison and each chart's Excel.

Thin: ``selectors_dashboard`` decides the scope (a role without ``dashboard.view`` → 403, a region
out of scope → 404) and computes every figure; the page, the Excel file and the API read the same
``Panel`` tables.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from apps.core import audit, years
from apps.core.excel import content_disposition
from apps.core.views_mixins import ActionRequiredMixin

from . import excel_dashboard
from . import selectors_dashboard as sel


def requested_year(request) -> int:
    """``?year=`` if it is a fiscal year of the system, else the year chosen in the header."""
    raw = request.GET.get("year", "").strip()
    known = {fy.year for fy in years.fiscal_years(request)}
    if raw:
        if not raw.isdigit() or int(raw) not in known:
            raise Http404("没有这个预算年度。")
        return int(raw)
    chosen = years.selected_year(request)
    if chosen is None:
        raise Http404("系统中还没有预算年度。")
    return chosen


class DashboardMixin(ActionRequiredMixin):
    required_action = sel.VIEW

    def scope(self) -> sel.DashboardScope:
        return sel.resolve_scope(
            self.request.user, region_code=self.request.GET.get("region", "").strip(), year=requested_year(self.request)
        )


class DashboardView(DashboardMixin, TemplateView):
    """Finance sees its region (the city's performance division any region); a department its own funds."""

    template_name = "results/dashboard.html"

    def get_context_data(self, **kwargs):
        scope = self.scope()
        user = self.request.user
        data = sel.dashboard(user, scope)
        own_region = user.organization is not None and user.organization.region_id == scope.region.pk
        link = None
        if own_region and sel.permissions.has_action(user, "rectification.view"):
            link = f"{reverse('results:rectification_list')}?status=overdue"  # all years: 逾期 is current
        return super().get_context_data(
            dash=data,
            scope=scope,
            current_note=sel.CURRENT_NOTE,
            rectification_link=link,
            fiscal_years=years.fiscal_years(self.request),
            query=f"region={scope.region.code}&year={scope.year}",
            **kwargs,
        )


class CompareView(ActionRequiredMixin, TemplateView):
    """市本级 and the 10 区市 side by side (the city's finance_perf only)."""

    required_action = sel.COMPARE
    template_name = "results/dashboard_compare.html"

    def get_context_data(self, **kwargs):
        year = requested_year(self.request)
        return super().get_context_data(
            panel=sel.comparison(self.request.user, year=year),
            year=year,
            fiscal_years=years.fiscal_years(self.request),
            query=f"year={year}",
            **kwargs,
        )


class PanelExcelView(DashboardMixin, View):
    """The data of one chart as a small formatted workbook."""

    http_method_names = ["get"]

    def get(self, request, key: str):
        if key == "compare":
            if not sel.permissions.has_action(request.user, sel.COMPARE):
                raise PermissionDenied("只有市财政局绩效管理处可以查看区市对比分析。")
            year = requested_year(request)
            panel, label = sel.comparison(request.user, year=year), f"全市各区域 · {year}年度"
        else:
            scope = self.scope()
            panel, label = sel.dashboard(request.user, scope).panel(key), scope.label
        now = timezone.localtime()
        content = excel_dashboard.panel_workbook(panel, scope_label=label, exported_at=now)
        audit.record(
            audit.Kind.EXPORT, actor=request.user, comment=f"导出分析看板“{panel.title}”（Excel；范围：{label}）"
        )
        response = HttpResponse(content, content_type=excel_dashboard.XLSX_CONTENT_TYPE)
        name = excel_dashboard.filename(panel, label, now)
        response["Content-Disposition"] = content_disposition(name)
        response["Cache-Control"] = "no-store"
        return response
