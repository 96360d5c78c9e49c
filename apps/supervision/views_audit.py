"""Pages of audit supervision: findings (list, record, one finding with its rectification, 销号)
and referrals (list, record, follow). Thin: reads from ``selectors_audit``, writes through
``services_audit``. Referral pages answer 403 to every role but audit and finance leadership."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import TemplateView

from apps.core import permissions
from apps.core.models import AuditEvent
from apps.core.views_mixins import ActionRequiredMixin, add_service_errors

from . import selectors_audit as selectors
from . import services_audit as services
from .forms_audit import FindingCloseForm, FindingForm, ReferralForm, ReferralStatusForm
from .models import AuditFinding, Referral

PAGE_SIZE = 50


class FindingListView(ActionRequiredMixin, TemplateView):
    required_action = "finding.view"
    template_name = "supervision/finding_list.html"

    def get_context_data(self, **kwargs):
        status = self.request.GET.get("status", "")
        status = status if status in AuditFinding.Status.values else ""
        q = self.request.GET.get("q", "").strip()[:100]
        rows = selectors.finding_list(user=self.request.user, status=status, q=q)
        return super().get_context_data(
            page=Paginator(rows, PAGE_SIZE).get_page(self.request.GET.get("page")),
            counts=selectors.finding_counts(selectors.finding_list(user=self.request.user, q=q)),
            status=status,
            q=q,
            statuses=AuditFinding.Status.choices,
            may_manage=permissions.has_action(self.request.user, "finding.manage"),
            **kwargs,
        )


class FindingCreateView(ActionRequiredMixin, TemplateView):
    required_action = "finding.manage"
    template_name = "supervision/finding_form.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", FindingForm(user=self.request.user))
        return super().get_context_data(**kwargs)

    def post(self, request):
        form = FindingForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                finding = services.finding_create(
                    actor=request.user,
                    organization=data["organization"],
                    fiscal_year=data["fiscal_year"],
                    source_audit=data["source_audit"],
                    category=data["category"],
                    problem=data["problem"],
                    amount_involved=data["amount_involved"],
                    found_on=data["found_on"],
                    requirement=data["requirement"],
                    deadline=data["deadline"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "已登记审计发现，并向责任单位下达整改事项。")
                return redirect("supervision:finding_detail", pk=finding.pk)
        return self.render_to_response(self.get_context_data(form=form))


class FindingDetailView(ActionRequiredMixin, TemplateView):
    required_action = "finding.view"
    template_name = "supervision/finding_detail.html"

    def finding(self) -> AuditFinding:
        rows = AuditFinding.objects.restrict(self.request.user, "finding.view").select_related(
            "organization", "fund", "rectification", "created_by", "closed_by"
        )
        return get_object_or_404(rows, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        finding = kwargs.pop("finding", None) or self.finding()
        user = self.request.user
        return super().get_context_data(
            finding=finding,
            may_close=permissions.can(user, "finding.manage", finding)
            and finding.status == AuditFinding.Status.RECTIFYING,
            rectification_done=finding.rectification is None
            or finding.rectification.status == finding.rectification.Status.DONE,
            close_form=kwargs.pop("close_form", None) or FindingCloseForm(),
            history=AuditEvent.objects.for_object(finding).select_related("actor").order_by("occurred_at", "pk"),
            **kwargs,
        )

    def post(self, request, pk):
        finding = self.finding()
        form = FindingCloseForm(request.POST)
        if form.is_valid():
            try:
                services.finding_close(actor=request.user, finding=finding, comment=form.cleaned_data["comment"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "已销号。")
                return redirect("supervision:finding_detail", pk=finding.pk)
        return self.render_to_response(self.get_context_data(finding=finding, close_form=form))


class ReferralListView(ActionRequiredMixin, TemplateView):
    required_action = "referral.view"
    template_name = "supervision/referral_list.html"

    def get_context_data(self, **kwargs):
        rows = selectors.referral_list(user=self.request.user)
        return super().get_context_data(
            page=Paginator(rows, PAGE_SIZE).get_page(self.request.GET.get("page")),
            may_manage=permissions.has_action(self.request.user, "referral.manage"),
            **kwargs,
        )


class ReferralCreateView(ActionRequiredMixin, TemplateView):
    required_action = "referral.manage"
    template_name = "supervision/referral_form.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", ReferralForm(user=self.request.user))
        return super().get_context_data(**kwargs)

    def post(self, request):
        form = ReferralForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                referral = services.referral_create(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "已登记移送线索。")
                return redirect("supervision:referral_detail", pk=referral.pk)
        return self.render_to_response(self.get_context_data(form=form))


class ReferralDetailView(ActionRequiredMixin, TemplateView):
    required_action = "referral.view"
    template_name = "supervision/referral_detail.html"

    def referral(self) -> Referral:
        rows = Referral.objects.restrict(self.request.user, "referral.view").select_related(
            "subject_organization", "finding", "created_by"
        )
        return get_object_or_404(rows, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        referral = kwargs.pop("referral", None) or self.referral()
        return super().get_context_data(
            referral=referral,
            may_manage=permissions.can(self.request.user, "referral.manage", referral),
            form=kwargs.pop("form", None)
            or ReferralStatusForm(initial={"status": referral.status, "outcome": referral.outcome}),
            **kwargs,
        )

    def post(self, request, pk):
        referral = self.referral()
        form = ReferralStatusForm(request.POST)
        if form.is_valid():
            try:
                services.referral_update(actor=request.user, referral=referral, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "已更新移送线索。")
                return redirect("supervision:referral_detail", pk=referral.pk)
        return self.render_to_response(self.get_context_data(referral=referral, form=form))
