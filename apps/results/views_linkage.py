"""Pages of 预算挂钩: the rule table, finance's 安排 list (arrange inline with htmx) and the linkage
report with its Excel download. Thin: reads from ``selectors_linkage`` (scoped with ``restrict``),
writes through ``services_linkage`` and ``apps.funds.services.fund_arrange``."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from apps.core import permissions, years
from apps.core.views_mixins import ActionRequiredMixin, add_service_errors
from apps.funds import services as fund_services
from apps.funds.models import SpecialFund
from apps.orgs.models import FiscalYear

from . import excel_linkage
from . import selectors_linkage as sel
from . import services_linkage as services
from .forms_linkage import WAN, DepartmentFilterForm, InlineArrangeForm, LinkageRuleForm

RS = SpecialFund.RequestStatus


def budget_year(request) -> FiscalYear:
    """``?year=`` if it is a fiscal year; else the year after the selected one (the budget being
    prepared) when it exists; else the selected year."""
    by_year = {fy.year: fy for fy in years.fiscal_years(request)}
    raw = request.GET.get("year") or request.POST.get("year") or ""
    if raw.isdigit() and int(raw) in by_year:
        return by_year[int(raw)]
    selected = years.selected_year(request)
    if selected is None:
        raise Http404("尚未设置预算年度。")
    return by_year.get(selected + 1) or by_year[selected]


def user_region(user):
    if user.organization is None:
        raise Http404("您的账号未分配所属机构。")
    return user.organization.region


class LinkageRulesView(ActionRequiredMixin, TemplateView):
    """Everyone with linkage.view reads the rules of their region; its finance bureau edits them."""

    required_action = "linkage.view"
    template_name = "results/linkage_rules.html"

    def get_context_data(self, form=None, **kwargs):
        user = self.request.user
        region, year = user_region(user), budget_year(self.request)
        table = sel.rules_table(region.pk, year.pk)
        manage = services.may_manage_rules(user)
        rows = list(sel.rule_rows(region.pk, year.pk))
        last = max(rows, key=lambda r: r.updated_at) if rows else None
        if manage and form is None:
            form = LinkageRuleForm(initial=LinkageRuleForm.initial_from(table))
        return super().get_context_data(
            region=region,
            year=year,
            years=years.fiscal_years(self.request),
            table=[table[g] for g in sel.GRADE_ORDER],
            defaults=[sel.default_rules()[g] for g in sel.GRADE_ORDER],
            is_default=not rows,
            last=last,
            manage=manage,
            perms_arrange=may_arrange(user),
            form=form,
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        if not services.may_manage_rules(request.user):
            raise PermissionDenied("只有本区域财政部门可以设置预算挂钩规则。")
        year = budget_year(request)
        if "reset" in request.POST:
            services.linkage_rules_reset(actor=request.user, fiscal_year=year)
            messages.success(request, f"已将{year.year}年度预算挂钩规则恢复为默认值。")
            return redirect(f"{reverse('results:linkage_rules')}?year={year.year}")
        form = LinkageRuleForm(request.POST)
        if form.is_valid():
            try:
                services.linkage_rules_save(actor=request.user, fiscal_year=year, rows=form.rows())
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"已保存{year.year}年度预算挂钩规则。")
                return redirect(f"{reverse('results:linkage_rules')}?year={year.year}")
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ArrangeListView(ActionRequiredMixin, TemplateView):
    """Finance's 安排 list: the region's submitted requests of the budget year with last grade,
    suggestion and suggested amount, each arranged inline."""

    required_action = "fund.arrange"
    template_name = "results/linkage_arrange.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        region, year = user_region(user), budget_year(self.request)
        status = self.request.GET.get("status", RS.SUBMITTED)
        if status not in (RS.SUBMITTED, RS.ARRANGED):
            status = RS.SUBMITTED
        funds = list(sel.arrange_queue(user=user, region_id=region.pk, fiscal_year_id=year.pk, status=status))
        linkages = sel.linkage_for(funds)
        blockers = sel.arrange_blockers_for(funds) if status == RS.SUBMITTED else {}
        rows = [_row(fund, linkages[fund.pk], blockers=blockers.get(fund.pk, ())) for fund in funds]
        return super().get_context_data(
            region=region, year=year, years=years.fiscal_years(self.request), rows=rows, status=status, **kwargs
        )


def _row(fund, linkage, form=None, blockers=()):
    """One row of the 安排 list; ``blockers``: what the budget gate says stops 安排 (shown before
    anyone presses the button)."""
    if form is None:
        form = InlineArrangeForm(initial={"amount_wan": linkage.suggested / WAN}, prefix=f"f{fund.pk}")
    return {"fund": fund, "linkage": linkage, "form": form, "decision": sel.decision_of(fund), "blockers": blockers}


class ArrangeRowView(ActionRequiredMixin, View):
    """POST one row of the 安排 list: htmx gets the row back, arranged or with the error on it.

    A refused 安排 answers htmx with 200 and the row carrying the error (htmx swaps no 4xx response,
    so a 400 would leave the screen unchanged); ``HX-Trigger: arrange-refused`` tells the page that
    nothing was arranged. Without htmx the list is reloaded with the error as a message."""

    required_action = "fund.arrange"
    http_method_names = ["post"]

    def post(self, request, pk):
        fund = get_object_or_404(
            SpecialFund.objects.restrict(request.user, "fund.arrange").select_related("department", "organization"),
            pk=pk,
        )
        form = InlineArrangeForm(request.POST, prefix=f"f{fund.pk}")
        refused = True
        if form.is_valid():
            try:
                fund_services.fund_arrange(
                    actor=request.user, fund=fund, amount=form.amount_yuan(), reason=form.cleaned_data["reason"]
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                refused = False
                if not getattr(request, "htmx", False):
                    messages.success(request, f"已安排“{fund.name}”的预算。")
                    return redirect(f"{reverse('results:linkage_arrange')}?year={fund.fiscal_year_id}")
                fund = SpecialFund.objects.select_related("department", "organization", "budget_decision").get(
                    pk=fund.pk
                )
                form = None
        if not getattr(request, "htmx", False):
            for error in form.errors.values():
                messages.error(request, "安排未成功：" + "".join(error))
            return redirect(f"{reverse('results:linkage_arrange')}?year={fund.fiscal_year_id}")
        blockers = sel.arrange_blockers_for([fund])[fund.pk] if refused else ()
        response = render(
            request,
            "results/partials/linkage_arrange_row.html",
            {"row": _row(fund, sel.linkage_of(fund), form, blockers)},
        )
        if refused:
            response["HX-Trigger"] = "arrange-refused"
        return response


class ReportView(ActionRequiredMixin, TemplateView):
    """The linkage report by department: finance sees its region, a department its own lines."""

    required_action = "linkage.view"
    template_name = "results/linkage_report.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        year = budget_year(self.request)
        form = DepartmentFilterForm(self.request.GET or None, user=user)
        department = form.cleaned_data.get("department") if form.is_valid() else None
        report = sel.linkage_report(
            user=user, fiscal_year_id=year.pk, department_id=department.pk if department else None
        )
        query = f"year={year.year}" + (f"&department={department.pk}" if department else "")
        return super().get_context_data(
            year=year, years=years.fiscal_years(self.request), form=form, report=report, query=query, **kwargs
        )


class ReportExcelView(ActionRequiredMixin, View):
    required_action = "linkage.view"
    http_method_names = ["get"]

    def get(self, request):
        user = request.user
        year = budget_year(request)
        form = DepartmentFilterForm(request.GET or None, user=user)
        department = form.cleaned_data.get("department") if form.is_valid() else None
        report = sel.linkage_report(
            user=user, fiscal_year_id=year.pk, department_id=department.pk if department else None
        )
        scope_name = department.name if department else user_region(user).name
        scope = f"范围：{scope_name}（{user.organization.name}可查看的项目）；金额单位：万元"
        file, filename = excel_linkage.report_export(actor=user, report=report, scope=scope, scope_name=scope_name)
        response = FileResponse(
            file, as_attachment=True, filename=filename, content_type=excel_linkage.XLSX_CONTENT_TYPE
        )
        response["Cache-Control"] = "no-store"
        return response


def may_arrange(user) -> bool:
    return permissions.has_action(user, "fund.arrange")
