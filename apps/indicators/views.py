from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms.models import model_to_dict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import TemplateView

from apps.core import permissions
from apps.core.models import AuditEvent
from apps.core.views_mixins import ActionRequiredMixin, add_service_errors, htmx_template

from . import selectors, services
from .forms import CommentForm, IndicatorForm, LibraryFilterForm, ProposalForm
from .models import LibraryIndicator

Status = LibraryIndicator.Status


class LibraryView(ActionRequiredMixin, TemplateView):
    """指标库: search and filters; htmx requests get only the table."""

    required_action = "indicator.view"
    page_size = 50

    def get_template_names(self):
        return [htmx_template(self.request, "indicators/library.html", "indicators/partials/library_table.html")]

    def get_context_data(self, **kwargs):
        user = self.request.user
        form = LibraryFilterForm(self.request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        indicators = selectors.library_search(user=user, **filters)
        page = Paginator(indicators, self.page_size).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(
            form=form,
            page=page,
            query=query.urlencode(),
            searching=bool(filters.get("q")),
            may_manage=permissions.has_action(user, "indicator.manage"),
            may_propose=permissions.has_action(user, "indicator.propose"),
            **kwargs,
        )


class IndicatorMixin(ActionRequiredMixin):
    required_action = "indicator.view"

    @cached_property
    def indicator(self) -> LibraryIndicator:
        return get_object_or_404(selectors.indicator_detail_queryset(self.request.user), pk=self.kwargs["pk"])


class IndicatorDetailView(IndicatorMixin, TemplateView):
    template_name = "indicators/indicator_detail.html"

    def get_context_data(self, **kwargs):
        indicator = self.indicator
        history = AuditEvent.objects.for_object(indicator).order_by("-occurred_at", "-id")[:20]
        return super().get_context_data(
            indicator=indicator,
            history=history,
            may_manage=permissions.has_action(self.request.user, "indicator.manage"),
            comment_form=CommentForm(),
            **kwargs,
        )


class IndicatorFormView(ActionRequiredMixin, View):
    """New indicator (no pk) or edit one; 绩效管理处 only."""

    required_action = "indicator.manage"
    template_name = "indicators/indicator_form.html"

    def get_indicator(self) -> LibraryIndicator | None:
        if "pk" not in self.kwargs:
            return None
        return get_object_or_404(
            selectors.indicator_detail_queryset(self.request.user).exclude(status=Status.REJECTED),
            pk=self.kwargs["pk"],
        )

    def make_form(self, indicator, data=None) -> IndicatorForm:
        initial = model_to_dict(indicator, fields=IndicatorForm.Meta.fields) if indicator else None
        return IndicatorForm(data, initial=initial, editing=indicator is not None)

    def get(self, request, **kwargs):
        indicator = self.get_indicator()
        return render(request, self.template_name, {"form": self.make_form(indicator), "indicator": indicator})

    def post(self, request, **kwargs):
        indicator = self.get_indicator()
        form = self.make_form(indicator, request.POST)
        if form.is_valid():
            try:
                if indicator is None:
                    saved = services.indicator_create(
                        actor=request.user, code=form.cleaned_data["code"], **form.service_fields()
                    )
                else:
                    saved = services.indicator_update(actor=request.user, indicator=indicator, **form.service_fields())
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"已保存指标“{saved.name}”（{saved.code}）。")
                return redirect("indicators:indicator_detail", pk=saved.pk)
        return render(request, self.template_name, {"form": form, "indicator": indicator})


class IndicatorActionView(IndicatorMixin, View):
    """停用 / 恢复启用 / 采纳 / 不予采纳: POST only; a refusal comes back as a message."""

    required_action = "indicator.manage"
    http_method_names = ["post"]
    action = ""
    done = {
        "retire": "已停用指标“{}”。",
        "restore": "已恢复启用指标“{}”。",
        "accept": "已采纳建议指标“{}”，编码 {}。",
        "reject": "已将建议指标“{}”标记为不予采纳。",
    }

    def post(self, request, pk):
        form = CommentForm(request.POST)
        comment = form.cleaned_data["comment"] if form.is_valid() else ""
        indicator = self.indicator
        try:
            if self.action == "retire":
                indicator = services.indicator_retire(actor=request.user, indicator=indicator, reason=comment)
            elif self.action == "restore":
                indicator = services.indicator_restore(actor=request.user, indicator=indicator, comment=comment)
            elif self.action == "accept":
                indicator = services.proposal_accept(actor=request.user, indicator=indicator, comment=comment)
            else:
                indicator = services.proposal_reject(actor=request.user, indicator=indicator, comment=comment)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, self.done[self.action].format(indicator.name, indicator.code))
        if self.action in ("accept", "reject") and request.POST.get("next") == "queue":
            return redirect("indicators:proposal_queue")
        return redirect("indicators:indicator_detail", pk=indicator.pk)


class ProposalQueueView(ActionRequiredMixin, TemplateView):
    """绩效管理处: pending proposals to decide, then the decided ones. Departments: their own."""

    required_action = "indicator.propose"
    template_name = "indicators/proposal_queue.html"
    page_size = 50

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and permissions.has_action(request.user, "indicator.manage"):
            self.required_action = "indicator.manage"
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        user = self.request.user
        proposals = selectors.proposal_list(user)
        page = Paginator(proposals, self.page_size).get_page(self.request.GET.get("page"))
        return super().get_context_data(
            page=page,
            query="",
            may_manage=self.required_action == "indicator.manage",
            may_propose=permissions.has_action(user, "indicator.propose"),
            comment_form=CommentForm(),
            **kwargs,
        )


class ProposalCreateView(ActionRequiredMixin, View):
    required_action = "indicator.propose"
    template_name = "indicators/proposal_form.html"

    def get(self, request):
        return render(request, self.template_name, {"form": ProposalForm()})

    def post(self, request):
        form = ProposalForm(request.POST)
        if form.is_valid():
            try:
                proposal = services.indicator_propose(actor=request.user, **form.service_fields())
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"已提交建议指标“{proposal.name}”，请等待市财政局绩效管理处审核。")
                return redirect("indicators:proposal_queue")
        return render(request, self.template_name, {"form": form})
