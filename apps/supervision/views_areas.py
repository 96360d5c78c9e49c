"""Pages of the special-area summaries (专项领域): the area × region summary of a year, one area's
funds, and their Excel exports. Read-only and thin: every figure comes from ``selectors_areas``
(scoped with ``restrict(user, "area.view")``); an unknown area is a 404."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.views import View
from django.views.generic import TemplateView

from apps.core import permissions, years
from apps.core.params import int_param
from apps.core.views_mixins import ActionRequiredMixin

from . import excel_areas
from . import selectors_areas as sel

PAGE_SIZE = 50


def chosen_year(request) -> int:
    """The 预算年度 selected in the header — these pages have no year selector of their own, so the
    header and the page always show the same year. A ``?year=`` that is a fiscal year (the page's own
    links and exports, an older bookmark) switches the header's year first; anything else ("²",
    "abc", a year the system doesn't have) is ignored."""
    known = {fy.year for fy in years.fiscal_years(request)}
    asked = int_param(request.GET.get("year"), low=1)
    if asked in known and asked != years.selected_year(request):
        request.session[years.SESSION_KEY] = asked
    selected = years.selected_year(request)
    if selected is None:
        raise Http404("尚未设置预算年度。")
    return selected


class HeaderYearMixin:
    """The pages read the header's 预算年度 only. A ``?year=`` in the address (an older link or
    bookmark) moves the header's year when it is a fiscal year and is then dropped from the address
    (a redirect), so the header's own switch — which returns to the current address — is never
    undone by a stale ``?year=``."""

    def get(self, request, *args, **kwargs):
        if "year" in request.GET:
            chosen_year(request)
            rest = request.GET.copy()
            del rest["year"]
            return redirect(f"{request.path}?{rest.urlencode()}" if rest else request.path)
        return super().get(request, *args, **kwargs)


def scope_name(user, summary_city_wide: bool) -> str:
    if summary_city_wide:
        return "全市"
    return user.organization.name if user.organization else ""


def area_or_404(slug: str) -> tuple[str, str]:
    try:
        return sel.area_of(slug)
    except sel.UnknownArea:
        raise Http404("没有这个专项领域。") from None


def chosen_region(request, regions):
    """``?region=`` when it is one of ``regions``; anything else means all of them."""
    by_id = {r.pk: r for r in regions}
    return by_id.get(int_param(request.GET.get("region"), low=1))


def _xlsx(file, filename: str) -> FileResponse:
    response = FileResponse(file, as_attachment=True, filename=filename, content_type=excel_areas.XLSX_CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response


def table_rows(summary: sel.Summary) -> list[dict]:
    """The summary table top-down: each area's row, then (city-wide) its regions' rows."""
    rows = []
    for block in summary.areas:
        rows.append({"block": block, "region": None, "figures": block.total})
        if summary.city_wide:
            rows += [{"block": block, "region": line.region, "figures": line.figures} for line in block.regions]
    return rows


class AreaSummaryView(ActionRequiredMixin, HeaderYearMixin, TemplateView):
    required_action = sel.ACTION
    template_name = "supervision/area_summary.html"

    def get_context_data(self, **kwargs):
        year = chosen_year(self.request)
        summary = sel.area_summary(user=self.request.user, fiscal_year=year)
        return super().get_context_data(
            year=year,
            summary=summary,
            rows=table_rows(summary),
            grades=sel.GRADES,
            scope_name=scope_name(self.request.user, summary.city_wide),
            target_basis=sel.TARGET_BASIS,
            warning_basis=sel.WARNING_BASIS,
            grade_basis=sel.GRADE_BASIS,
            **kwargs,
        )


class AreaSummaryExportView(ActionRequiredMixin, View):
    required_action = sel.ACTION

    def get(self, request):
        year = chosen_year(request)
        summary = sel.area_summary(user=request.user, fiscal_year=year)
        file, filename = excel_areas.summary_export(
            actor=request.user, summary=summary, scope_name=scope_name(request.user, summary.city_wide)
        )
        return _xlsx(file, filename)


class AreaDetailView(ActionRequiredMixin, HeaderYearMixin, TemplateView):
    required_action = sel.ACTION
    template_name = "supervision/area_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        slug = kwargs.pop("area")
        flag, label = area_or_404(slug)
        year = chosen_year(self.request)
        regions = sel.visible_regions(user)
        region = chosen_region(self.request, regions)
        rows = sel.area_fund_list(user=user, fiscal_year=year, area=slug, region_id=region.pk if region else None)
        page = Paginator(rows, PAGE_SIZE).get_page(self.request.GET.get("page"))
        for fund in page:
            fund.may_open = permissions.can(user, "fund.view", fund)
            fund.grade_label = sel.grade_label(fund.area_grade)
            fund.grade_source = excel_areas.grade_source(fund)
            fund.target_label = excel_areas.target_label(fund)
        query = {"region": region.pk} if region else {}
        return super().get_context_data(
            area=slug,
            area_label=label,
            areas=[(s, lbl) for s, (_, lbl) in sel.AREAS.items()],
            year=year,
            regions=regions,
            region=region,
            page=page,
            query=urlencode(query),
            warning_basis=sel.WARNING_BASIS,
            grade_basis=sel.GRADE_BASIS,
            **kwargs,
        )


class AreaFundsExportView(ActionRequiredMixin, View):
    required_action = sel.ACTION

    def get(self, request, area):
        _, label = area_or_404(area)
        year = chosen_year(request)
        regions = sel.visible_regions(request.user)
        region = chosen_region(request, regions)
        funds = sel.area_fund_list(
            user=request.user, fiscal_year=year, area=area, region_id=region.pk if region else None
        )
        name = scope_name(request.user, len(regions) > 1)
        if region is not None and len(regions) > 1:
            name = region.name
        file, filename = excel_areas.funds_export(
            actor=request.user, funds=funds, fiscal_year=year, area_label=label, scope_name=name
        )
        return _xlsx(file, filename)
