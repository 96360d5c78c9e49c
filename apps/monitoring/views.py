from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import TemplateView

from apps.core import permissions, years
from apps.core.views_mixins import ActionRequiredMixin, add_service_errors
from apps.funds.models import SpecialFund
from apps.orgs.models import FiscalYear

from . import rules, selectors, services
from .forms import KeyMeasureForm, ReportFilterForm, RoundOpenForm
from .models import IndicatorProgress, KeyMonitoring, MonitoringReport, MonitoringRound

WAN = Decimal(10000)
PROGRESS_FIELDS = (
    "progress_value", "expected_value", "progress_text", "likelihood", "deviation_cause", "corrective_measure",
)  # fmt: skip


def _year(request) -> FiscalYear | None:
    return FiscalYear.objects.filter(pk=years.selected_year(request)).first()


class RoundListView(ActionRequiredMixin, TemplateView):
    required_action = "monitoring.view"
    template_name = "monitoring/round_list.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        bureau = selectors.finance_bureau_of(user)
        may_open = bureau is not None and permissions.can(user, "monitoring.manage", bureau)
        return super().get_context_data(
            rounds=selectors.round_list(user=user, fiscal_year=years.selected_year(self.request)),
            may_open=may_open,
            form=kwargs.pop("form", None) or RoundOpenForm(),
            **kwargs,
        )

    def post(self, request):
        """Open a round (finance of the region)."""
        bureau, year = selectors.finance_bureau_of(request.user), _year(request)
        if bureau is None or not permissions.can(request.user, "monitoring.manage", bureau):
            raise PermissionDenied("只有区域财政部门可以开启监控轮次。")
        form = RoundOpenForm(request.POST)
        if form.is_valid() and year is not None:
            try:
                round_, made = services.round_open(
                    actor=request.user, organization=bureau, fiscal_year=year, **form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"监控轮次已开启，新建监控任务 {made} 个。")
                return redirect("monitoring:round_detail", pk=round_.pk)
        return self.render_to_response(self.get_context_data(form=form))


class RoundDetailView(ActionRequiredMixin, TemplateView):
    required_action = "monitoring.view"
    template_name = "monitoring/round_detail.html"
    page_size = 50

    def get_context_data(self, **kwargs):
        user = self.request.user
        round_ = get_object_or_404(
            MonitoringRound.objects.restrict(user, "monitoring.round").select_related("organization"),
            pk=self.kwargs["pk"],
        )
        form = ReportFilterForm(self.request.GET or None, user=user)
        filters = form.cleaned_data if form.is_valid() else {}
        reports = selectors.report_list(user=user, round_=round_, **filters)
        page = Paginator(reports, self.page_size).get_page(self.request.GET.get("page"))
        rows = selectors.warnings_for(page.object_list)
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(
            round=round_,
            form=form,
            page=page,
            rows=rows,
            flags=selectors.payment_flags(r.report.fund_id for r in rows),
            schedule=rules.elapsed_share(round_.data_as_of, round_.fiscal_year_id),
            may_manage=permissions.can(user, "monitoring.manage", round_.organization),
            query=query.urlencode(),
            **kwargs,
        )


class ReportMixin(ActionRequiredMixin):
    required_action = "monitoring.view"

    @cached_property
    def report(self) -> MonitoringReport:
        return get_object_or_404(
            MonitoringReport.objects.restrict(self.request.user, "monitoring.view").select_related(
                "fund__department", "organization", "round", "target"
            ),
            pk=self.kwargs["pk"],
        )

    def progress_rows(self):
        return list(
            IndicatorProgress.objects.filter(report=self.report)
            .select_related("indicator")
            .order_by("indicator__sort_order", "indicator_id")
        )


class ReportDetailView(ReportMixin, TemplateView):
    template_name = "monitoring/report_detail.html"

    def get_context_data(self, **kwargs):
        user, report = self.request.user, self.report
        available = {t.name for t in services.REPORT_FLOW.available(report, user)}
        item = selectors.warnings_for([report])[0]
        return super().get_context_data(
            report=report,
            progress=self.progress_rows(),
            item=item,
            executed=selectors.executed_of(report),
            schedule=rules.elapsed_share(report.round.data_as_of, report.round.fiscal_year_id),
            available=available,
            may_edit=report.status in services.EDITABLE and permissions.can(user, "monitoring.fill", report),
            history=services.REPORT_FLOW.history(report),
            flag=selectors.payment_flags([report.fund_id]).get(report.fund_id),
            **kwargs,
        )


class ReportEditView(ReportMixin, View):
    """The monitoring form: executed amount (万元) and, per indicator, progress, expectation,
    likelihood, and — when the target will be missed — the cause and the corrective measure."""

    required_action = "monitoring.fill"

    def check(self):
        if not permissions.can(self.request.user, "monitoring.fill", self.report):
            raise Http404("监控报告不存在或不在您的填报范围内。")
        if self.report.status not in services.EDITABLE:
            raise PermissionDenied(f"监控报告当前状态为“{self.report.get_status_display()}”，不能修改。")

    def render(self, request, errors=(), posted=None, status=200):
        report = self.report
        executed = report.executed_amount if report.executed_amount is not None else report.imported_executed_amount
        rows = []
        for p in self.progress_rows():
            if posted is not None:
                values = {f: posted.get(f"p{p.pk}-{f}", "") for f in PROGRESS_FIELDS}
            else:
                values = {f: "" if getattr(p, f) is None else getattr(p, f) for f in PROGRESS_FIELDS}
                for f in ("progress_value", "expected_value"):
                    values[f] = f"{values[f].normalize():f}" if values[f] != "" else ""
            rows.append((p, values))
        if posted is not None:
            executed_wan = posted.get("executed_wan", "")
        else:
            executed_wan = (executed / WAN).quantize(Decimal("0.01")) if executed is not None else ""
        return render(
            request,
            "monitoring/report_edit.html",
            {
                "report": report,
                "rows": rows,
                "executed_wan": executed_wan,
                "execution_note": posted.get("execution_note", "") if posted is not None else report.execution_note,
                "errors": errors,
                "posted": posted,
                "likelihoods": IndicatorProgress.Likelihood.choices,
                "causes": IndicatorProgress.Cause.choices,
            },
            status=status,
        )

    def get(self, request, pk):
        self.check()
        return self.render(request)

    def post(self, request, pk):
        self.check()
        progress = {}
        for row in self.progress_rows():
            prefix = f"p{row.pk}-"
            progress[row.pk] = {name: request.POST.get(prefix + name, "") for name in PROGRESS_FIELDS}
        executed_text = request.POST.get("executed_wan", "").strip()
        try:
            executed = (
                (Decimal(executed_text.replace(",", "")) * WAN).quantize(Decimal("0.01")) if executed_text else None
            )
            if executed is not None and (not executed.is_finite() or executed < 0):
                raise ValidationError("已执行金额：应为不小于 0 的数字（万元）。")
        except (ArithmeticError, ValueError):
            return self.render(
                request, errors=[f"已执行金额：“{executed_text}”不是数字。"], posted=request.POST, status=400
            )
        except ValidationError as exc:
            return self.render(request, errors=exc.messages, posted=request.POST, status=400)
        try:
            services.report_save(
                actor=request.user,
                report=self.report,
                executed_amount=executed,
                execution_note=request.POST.get("execution_note", ""),
                progress=progress,
            )
        except ValidationError as exc:
            return self.render(request, errors=exc.messages, posted=request.POST, status=400)
        messages.success(request, "监控报告已保存。")
        if request.POST.get("then") == "send":
            return ReportTransitionView.as_view()(request, pk=pk, action="send")
        return redirect("monitoring:report_detail", pk=pk)


class ReportTransitionView(ReportMixin, View):
    http_method_names = ["post"]
    ACTIONS = {"send", "submit", "dept_return", "receive", "return"}

    def post(self, request, pk, action):
        if action not in self.ACTIONS:
            raise Http404("未知操作。")
        try:
            services.report_transition(
                actor=request.user, report=self.report, name=action, comment=request.POST.get("comment", "")
            )
            messages.success(request, "操作成功。")
        except ValidationError as exc:
            messages.error(request, "操作未成功：" + "；".join(exc.messages))
        return redirect("monitoring:report_detail", pk=pk)


class WarningListView(ActionRequiredMixin, TemplateView):
    """预警: finance sees its region, a department its own funds; most severe first; chart by department."""

    required_action = "monitoring.view"
    template_name = "monitoring/warning_list.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        year = years.selected_year(self.request)
        kind = self.request.GET.get("kind", "")
        page = Paginator(selectors.warning_list(user=user, fiscal_year=year, kind=kind), 50).get_page(
            self.request.GET.get("page")
        )
        page.items = selectors.reports_with_warnings(page.object_list)
        round_ = (
            MonitoringRound.objects.restrict(user, "monitoring.round")
            .filter(fiscal_year_id=year)
            .order_by("-data_as_of")
            .first()
        )
        chart = selectors.department_execution(user=user, round_=round_) if round_ else []
        return super().get_context_data(
            page=page,
            kind=kind,
            round=round_,
            chart=chart,
            schedule=rules.elapsed_share(round_.data_as_of, round_.fiscal_year_id) if round_ else 0,
            schedule_limit=(rules.elapsed_share(round_.data_as_of, round_.fiscal_year_id) - round_.tolerance_points)
            if round_
            else 0,
            flags=selectors.payment_flags(i.report.fund_id for i in page.items),
            query=f"kind={kind}" if kind else "",
            **kwargs,
        )


class KeyMonitoringView(ActionRequiredMixin, TemplateView):
    """重点监控: pick funds, see coverage, record measures."""

    required_action = "monitoring.key"
    template_name = "monitoring/key_list.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        year = years.selected_year(self.request)
        keys = (
            KeyMonitoring.objects.restrict(user, "monitoring.key")
            .filter(fiscal_year_id=year)
            .select_related("fund__department", "measured_by")
        )
        q = self.request.GET.get("q", "").strip()
        candidates = []
        if q:
            candidates = list(
                SpecialFund.objects.restrict(user, "monitoring.key")
                .filter(fiscal_year_id=year)
                .filter(name__icontains=q)
                .exclude(key_monitoring__fiscal_year_id=year)
                .select_related("department")
                .order_by("code")[:30]
            )
        coverage = services.key_coverage(user=user, fiscal_year=year) if year else None
        return super().get_context_data(
            keys=keys,
            q=q,
            candidates=candidates,
            coverage=coverage,
            minimum=services.KEY_MINIMUM,
            measure_form=KeyMeasureForm(),
            **kwargs,
        )

    def post(self, request):
        year = _year(request)
        ids = [int(i) for i in request.POST.getlist("fund") if i.isdecimal()]
        funds = SpecialFund.objects.restrict(request.user, "monitoring.key").filter(pk__in=ids)
        try:
            made = services.key_select(actor=request.user, funds=funds, fiscal_year=year)
            messages.success(request, f"已列入重点监控 {made} 个项目。")
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        return redirect("monitoring:key_list")


class KeyMeasureView(ActionRequiredMixin, View):
    required_action = "monitoring.key"
    http_method_names = ["post"]

    def post(self, request, pk):
        key = get_object_or_404(KeyMonitoring.objects.restrict(request.user, "monitoring.key"), pk=pk)
        form = KeyMeasureForm(request.POST)
        if not form.is_valid():
            messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
            return redirect("monitoring:key_list")
        try:
            services.key_measure(actor=request.user, key=key, **form.cleaned_data)
            messages.success(request, f"已记录处理措施：{key.fund.name}。")
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        return redirect("monitoring:key_list")
