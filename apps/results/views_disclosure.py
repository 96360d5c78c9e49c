"""Internal pages of 信息公开 (/results/disclosures/…): the published/withdrawn list, records waiting
to be published (待公开) with single and batch publish, and one disclosure with its snapshot preview
and the withdraw form. Thin: the rules live in ``services_disclosure``."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views import View
from django.views.generic import TemplateView

from apps.core import permissions, years
from apps.core.views_mixins import ActionRequiredMixin
from apps.orgs.models import Organization

from . import selectors_disclosure as selectors
from . import services_disclosure as services
from .forms_disclosure import BatchPublishForm, InternalFilterForm, WithdrawForm
from .models import Disclosure

PAGE_SIZE = 30
Kind = Disclosure.Kind


def _back(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    referer = request.headers.get("referer", "")
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}):
        return referer
    return default


def _query(request) -> str:
    return urlencode([(k, v) for k, v in request.GET.items() if k != "page" and v])


class DisclosureListView(ActionRequiredMixin, TemplateView):
    required_action = "disclosure.view"
    template_name = "results/disclosure_list.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        form = InternalFilterForm(self.request.GET, years=selectors.public_years())
        filters = form.filters()
        status = form.cleaned_data.get("status", "") if hasattr(form, "cleaned_data") else ""
        rows = selectors.disclosure_list(user, status=status, f=filters)
        page = Paginator(rows, PAGE_SIZE).get_page(self.request.GET.get("page"))
        return super().get_context_data(
            form=form,
            page=page,
            query=_query(self.request),
            may_publish=permissions.has_action(user, services.PUBLISH),
            **kwargs,
        )


def _department_choices(user):
    """Departments finance may publish for (its region), for the pending filter and batch form."""
    return Organization.objects.restrict(user, "org.view").filter(kind=Organization.Kind.DEPARTMENT).order_by("code")


class DisclosurePendingView(ActionRequiredMixin, TemplateView):
    required_action = "disclosure.publish"
    template_name = "results/disclosure_pending.html"

    def get_context_data(self, **kwargs):
        user, params = self.request.user, self.request.GET
        kind = params.get("kind") if params.get("kind") in services.RECORDS else Kind.TARGET
        raw_year = params.get("year", "")
        year = int(raw_year) if raw_year.isdecimal() else years.selected_year(self.request)
        if kind != Kind.TARGET and "year" not in params and year:
            year -= 1  # results are of the year that ended
        departments = _department_choices(user)
        department = None
        if params.get("department", "").isdecimal():
            department = departments.filter(pk=params["department"]).first()
        rows = selectors.pending(user, kind, fiscal_year=year, department=department)
        page = Paginator(rows, PAGE_SIZE).get_page(params.get("page"))
        classified = selectors.pending_classified_count(user, kind, fiscal_year=year, department=department)
        return super().get_context_data(
            kind=kind,
            kinds=Kind.choices,
            year=year,
            years=selectors.public_years(),
            departments=departments,
            department=department,
            page=page,
            query=_query(self.request),
            classified=classified,
            **kwargs,
        )


class DisclosureDetailView(ActionRequiredMixin, TemplateView):
    required_action = "disclosure.view"
    template_name = "results/disclosure_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        disclosure = selectors.disclosure_detail(user, self.kwargs["pk"])
        if disclosure is None:
            raise Http404("公开记录不存在或不在您的查看范围内。")
        may_withdraw = disclosure.status == Disclosure.Status.PUBLISHED and permissions.can(
            user, services.PUBLISH, disclosure
        )
        return super().get_context_data(
            d=disclosure,
            c=disclosure.content,
            is_public=disclosure.status == Disclosure.Status.PUBLISHED
            and not (disclosure.fund_id and disclosure.fund.is_classified),
            may_withdraw=may_withdraw,
            withdraw_form=kwargs.pop("withdraw_form", None) or WithdrawForm(),
            internal=True,
            **kwargs,
        )


class DisclosureWithdrawView(DisclosureDetailView):
    required_action = "disclosure.publish"
    http_method_names = ["post"]

    def post(self, request, pk: int):
        disclosure = Disclosure.objects.restrict(request.user, services.PUBLISH).filter(pk=pk).first()
        if disclosure is None:
            raise Http404("公开记录不存在或不在您的管理范围内。")
        form = WithdrawForm(request.POST)
        form.is_valid()
        try:
            services.disclosure_withdraw(
                actor=request.user, disclosure=disclosure, reason=form.cleaned_data.get("withdraw_reason", "")
            )
        except ValidationError as exc:
            for field, errors in getattr(exc, "message_dict", {"withdraw_reason": exc.messages}).items():
                form.add_error("withdraw_reason" if field in ("withdraw_reason", "comment") else None, errors)
            context = self.get_context_data(withdraw_form=form)
            return self.render_to_response(context, status=400)
        messages.success(request, f"已撤回“{disclosure.title}”，公开页面已不再显示。")
        return redirect("results:disclosure_detail", pk=disclosure.pk)


class DisclosurePublishView(ActionRequiredMixin, View):
    required_action = "disclosure.publish"
    http_method_names = ["post"]

    def post(self, request, kind: str, pk: int):
        record = services.record_for(kind, pk, user=request.user)
        if record is None:
            raise Http404("记录不存在或不在您的管理范围内。")
        try:
            disclosure = services.disclosure_publish(
                actor=request.user, kind=kind, record=record, report=request.POST.get("report") or None
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, f"未能公开：{message}")
            return redirect(_back(request, reverse("results:disclosure_pending") + f"?kind={kind}"))
        messages.success(request, f"已公开“{disclosure.title}”。")
        return redirect(_back(request, reverse("results:disclosure_detail", args=[disclosure.pk])))


class DisclosureBatchView(ActionRequiredMixin, View):
    required_action = "disclosure.publish"
    http_method_names = ["post"]

    def post(self, request):
        form = BatchPublishForm(
            request.POST, years=selectors.public_years(), departments=_department_choices(request.user)
        )
        back = reverse("results:disclosure_pending")
        if not form.is_valid():
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                for error in errors:
                    messages.error(request, f"{label}：{error}" if label else error)
            return redirect(back)
        data = form.cleaned_data
        query = urlencode({"kind": data["kind"], "year": data["fiscal_year"]})
        try:
            result = services.disclosure_publish_batch(
                actor=request.user, kind=data["kind"], fiscal_year=data["fiscal_year"], department=data["department"]
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, f"未能批量公开：{message}")
            return redirect(f"{back}?{query}")
        text = f"已公开 {result.published} 项。"
        if result.skipped_classified:
            text += f"另有 {result.skipped_classified} 项为涉密项目，已跳过。"
        if result.skipped_published:
            text += f"{result.skipped_published} 项此前已公开。"
        messages.success(request, text)
        return redirect(f"{back}?{query}")
