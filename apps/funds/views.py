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
from apps.core.views_mixins import ActionRequiredMixin, add_service_errors, htmx_template
from apps.monitoring.models import MonitoringReport
from apps.orgs.models import FiscalYear

from . import gate, selectors, services
from .forms import WAN, ArrangeForm, DeclineForm, FundFilterForm, FundForm, TransferFormSet
from .models import SpecialFund


class FundListView(ActionRequiredMixin, TemplateView):
    required_action = "fund.view"
    page_size = 50

    def get_template_names(self):
        return [htmx_template(self.request, "funds/fund_list.html", "funds/partials/fund_table.html")]

    def get_context_data(self, **kwargs):
        user = self.request.user
        form = FundFilterForm(self.request.GET or None, user=user)
        filters = form.cleaned_data if form.is_valid() else {}
        year = years.selected_year(self.request)
        funds = selectors.fund_list(user=user, fiscal_year=year, **filters)
        page = Paginator(funds, self.page_size).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(
            form=form,
            page=page,
            query=query.urlencode(),
            year=year,
            may_create=permissions.has_action(user, "fund.edit"),
            **kwargs,
        )


class FundMixin(ActionRequiredMixin):
    required_action = "fund.view"

    @cached_property
    def fund(self) -> SpecialFund:
        return get_object_or_404(selectors.fund_detail_queryset(self.request.user), pk=self.kwargs["pk"])


class FundDetailView(FundMixin, TemplateView):
    template_name = "funds/fund_detail.html"

    def suggested_amount(self, fund) -> Decimal:
        """The arrange form starts at the linkage's suggested amount (only read when it is shown)."""
        if fund.request_status != SpecialFund.RequestStatus.SUBMITTED:
            return fund.total_amount
        from apps.results.selectors_linkage import cached_linkage

        return cached_linkage(fund).suggested

    def get_context_data(self, **kwargs):
        from apps.assessments.selectors import assessments_for_fund
        from apps.evaluations.models import KeyEvaluation, SelfEvaluation
        from apps.targets.models import PerformanceTarget

        user, fund = self.request.user, self.fund
        targets = PerformanceTarget.objects.restrict(user, "target.view").filter(fund=fund).order_by("-version")
        assessments = assessments_for_fund(user=user, fund=fund)
        can = {action: permissions.can(user, f"fund.{action}", fund) for action in ("edit", "submit", "arrange")}
        return super().get_context_data(
            fund=fund,
            targets=targets,
            assessments=assessments,
            can=can,
            may_edit=can["edit"] and fund.request_status in services.FUND_FLOW.transitions["submit"].sources,
            may_start_target=permissions.can(user, "target.edit", fund) and not targets,
            needs_assessment=gate.needs_assessment(fund),
            submit_blockers=gate.submit_blockers(fund),
            arrange_blockers=gate.arrange_blockers(fund),
            arrange_form=ArrangeForm(initial={"amount_wan": self.suggested_amount(fund) / WAN}),
            decline_form=DeclineForm(),
            tab=self.request.GET.get("tab", "info"),
            monitoring_reports=MonitoringReport.objects.restrict(user, "monitoring.view")
            .filter(fund=fund)
            .select_related("round"),
            self_evaluations=SelfEvaluation.objects.restrict(user, "selfeval.view")
            .filter(fund=fund)
            .select_related("round"),
            key_evaluations=KeyEvaluation.objects.restrict(user, "evaluation.view")
            .filter(fund=fund)
            .select_related("plan"),
            **kwargs,
        )


class FundFormView(ActionRequiredMixin, View):
    """Create (no pk) or edit a fund; amounts in 万元; transfer rows as a small formset."""

    required_action = "fund.edit"
    template_name = "funds/fund_form.html"

    def get_fund(self):
        if "pk" not in self.kwargs:
            return None
        return get_object_or_404(SpecialFund.objects.restrict(self.request.user, "fund.edit"), pk=self.kwargs["pk"])

    def forms(self, fund, data=None):
        form = FundForm(data, instance=fund, user=self.request.user)
        initial = [{"region": t.region, "amount_wan": t.amount / WAN} for t in fund.transfers.all()] if fund else []
        return form, TransferFormSet(data, initial=initial, prefix="transfers")

    def get(self, request, **kwargs):
        fund = self.get_fund()
        form, transfers = self.forms(fund)
        return render(request, self.template_name, {"form": form, "transfers": transfers, "fund": fund})

    def post(self, request, **kwargs):
        fund = self.get_fund()
        form, transfers = self.forms(fund, request.POST)
        if form.is_valid() and transfers.is_valid():
            rows = [
                (row["region"], (row["amount_wan"] * WAN).quantize(Decimal("0.01")))
                for row in transfers.cleaned_data
                if row.get("region")
            ]
            try:
                if fund is None:
                    year = FiscalYear.objects.filter(pk=years.selected_year(request)).first()
                    if year is None:
                        raise ValidationError("尚未设置预算年度，请联系财政部门。")
                    fund = services.fund_create(
                        actor=request.user,
                        fiscal_year=year,
                        policy_tags=form.cleaned_data["policy_tags"],
                        transfers=rows,
                        **form.service_fields(),
                    )
                else:
                    fund = services.fund_update(
                        actor=request.user,
                        fund=fund,
                        policy_tags=form.cleaned_data["policy_tags"],
                        transfers=rows,
                        **form.service_fields(),
                    )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"已保存专项资金“{fund.name}”。")
                return redirect("funds:fund_detail", pk=fund.pk)
        return render(request, self.template_name, {"form": form, "transfers": transfers, "fund": fund})


class FundTransitionView(FundMixin, View):
    """申报 / 安排 / 不予安排: POST only; a refusal comes back as a message naming what is missing."""

    http_method_names = ["post"]

    PERMISSION = {"submit": "fund.submit", "arrange": "fund.arrange", "decline": "fund.arrange"}

    def post(self, request, pk, action):
        fund = self.fund
        if action not in self.PERMISSION:
            raise Http404("未知操作。")
        if not permissions.can(request.user, self.PERMISSION[action], fund):
            raise PermissionDenied("您的角色无权对该专项资金执行此操作。")
        try:
            if action == "submit":
                services.fund_submit(actor=request.user, fund=fund)
                messages.success(request, "已申报预算。")
            elif action == "arrange":
                form = ArrangeForm(request.POST)
                if not form.is_valid():
                    raise ValidationError("安排金额格式不正确，请填写不小于 0 的数字（万元）。")
                amount = (form.cleaned_data["amount_wan"] * WAN).quantize(Decimal("0.01"))
                services.fund_arrange(
                    actor=request.user,
                    fund=fund,
                    amount=amount,
                    comment=form.cleaned_data["comment"],
                    reason=form.cleaned_data["reason"],
                )
                messages.success(request, "已安排预算。")
            else:
                services.fund_decline(actor=request.user, fund=fund, comment=request.POST.get("comment", ""))
                messages.success(request, "已标记为不予安排。")
        except ValidationError as exc:
            messages.error(request, "操作未成功：" + "".join(exc.messages))
        return redirect("funds:fund_detail", pk=fund.pk)
