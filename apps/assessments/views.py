from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import FormView, TemplateView

from apps.core import permissions, years
from apps.core.views_mixins import ActionRequiredMixin, add_service_errors, htmx_template
from apps.funds.models import SpecialFund

from . import selectors, services
from .forms import (
    AssessmentFilterForm,
    AssessmentForm,
    AssignExpertsForm,
    CompleteForm,
    ExpertOpinionForm,
    ReturnForm,
)
from .models import DIMENSIONS, ExAnteAssessment

S = ExAnteAssessment.Status


class AssessmentListView(ActionRequiredMixin, TemplateView):
    required_action = "assessment.view"
    page_size = 50

    def get_template_names(self):
        return [htmx_template(self.request, "assessments/assessment_list.html", "assessments/partials/table.html")]

    def get_context_data(self, **kwargs):
        form = AssessmentFilterForm(self.request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        year = years.selected_year(self.request)
        assessments = selectors.assessment_list(user=self.request.user, fiscal_year=year, **filters)
        page = Paginator(assessments, self.page_size).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(form=form, page=page, query=query.urlencode(), year=year, **kwargs)


class AssessmentDetailView(ActionRequiredMixin, TemplateView):
    """The five dimensions, expert opinions, finance's conclusion, the history and the buttons the
    user's role allows now."""

    required_action = "assessment.view"
    template_name = "assessments/assessment_detail.html"

    @cached_property
    def assessment(self) -> ExAnteAssessment:
        return get_object_or_404(selectors.assessment_detail_queryset(self.request.user), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        user, a = self.request.user, self.assessment
        opinions = selectors.assessment_opinions(user=user, assessment=a)
        own_opinion = next((o for o in opinions if o.expert_id == user.pk), None)
        may_review = a.status in services.OPEN_REVIEW_STATES and permissions.can(user, "assessment.review", a)
        may = {
            "edit": a.status in services.EDITABLE_STATES and permissions.can(user, "assessment.edit", a),
            "submit": a.status in services.EDITABLE_STATES and permissions.can(user, "assessment.submit", a),
            "review": may_review,
            "opine": own_opinion is not None
            and a.status == S.REVIEWING
            and permissions.can(user, "assessment.opine", a),
        }
        labels = dict(S.choices)
        history = [
            (event, labels.get(step.get("from"), step.get("from")), labels.get(step.get("to"), step.get("to")))
            for event in services.ASSESSMENT_FLOW.history(a)
            for step in [event.changes.get("status") or {}]
        ]
        returns = [event for event, _, to in history if to == S.RETURNED.label]
        forms = dict.fromkeys(["assign_form", "complete_form", "return_form", "opinion_form"])
        if may_review:
            experts = selectors.assignable_experts(assessment=a)
            forms["assign_form"] = AssignExpertsForm(experts=experts) if experts.exists() else None
            forms["complete_form"], forms["return_form"] = CompleteForm(), ReturnForm()
        if may["opine"]:
            forms["opinion_form"] = ExpertOpinionForm(
                initial={"opinion": own_opinion.opinion, "recommended_conclusion": own_opinion.recommended_conclusion}
            )
        forms.update({k: v for k, v in kwargs.items() if k.endswith("_form")})
        kwargs = {k: v for k, v in kwargs.items() if not k.endswith("_form")}
        return super().get_context_data(
            assessment=a,
            fund=a.fund,
            dimensions=[(name, label, getattr(a, name)) for name, label in DIMENSIONS],
            missing=services.missing_dimensions(a),
            min_length=services.MIN_DIMENSION_LENGTH,
            opinions=opinions,
            own_opinion=own_opinion,
            history=history,
            last_return=returns[-1] if returns and a.status == S.RETURNED else None,
            may=may,
            **forms,
            **kwargs,
        )


class AssessmentActionView(AssessmentDetailView):
    """POST-only steps: submit, assign experts, expert opinion, complete, return. A refused step
    (e.g. a second click on 提交) comes back as a Chinese message; nothing changes."""

    http_method_names = ["post"]
    FORMS = {
        "assign": ("assign_form", AssignExpertsForm),
        "opinion": ("opinion_form", ExpertOpinionForm),
        "complete": ("complete_form", CompleteForm),
        "return": ("return_form", ReturnForm),
    }
    DONE = {
        "submit": "已提交财政评审。",
        "assign": "已指派评审专家。",
        "opinion": "已提交专家意见。",
        "complete": "已作出评估结论，评估完成。",
        "return": "已退回单位修改。",
    }

    def post(self, request, pk, action):
        if action not in self.DONE:
            raise Http404("未知操作。")
        a, user = self.assessment, request.user
        detail = reverse("assessments:assessment_detail", args=[a.pk])
        if action == "submit":
            try:
                services.assessment_submit(actor=user, assessment=a)
            except ValidationError as exc:
                messages.error(request, "提交未成功：" + "".join(exc.messages))
                return redirect(detail)
            messages.success(request, self.DONE[action])
            return redirect(detail)
        name, form_class = self.FORMS[action]
        kwargs = {"experts": selectors.assignable_experts()} if action == "assign" else {}
        form = form_class(request.POST, **kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if action == "assign":
                    services.assessment_assign_experts(actor=user, assessment=a, experts=data["experts"])
                elif action == "opinion":
                    services.expert_opinion_submit(actor=user, assessment=a, **data)
                elif action == "complete":
                    services.assessment_complete(actor=user, assessment=a, **data)
                else:
                    services.assessment_return(actor=user, assessment=a, comment=data["comment"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, self.DONE[action])
                return redirect(detail)
        context = self.get_context_data(**{name: form})
        if not context["may"]["opine" if action == "opinion" else "review"]:
            # The form is no longer on the page (e.g. someone else completed it meanwhile): say why.
            errors = [e for field_errors in form.errors.values() for e in field_errors]
            messages.error(request, "操作未成功：" + "".join(errors))
            return redirect(detail)
        return self.render_to_response(context)


class AssessmentCreateView(ActionRequiredMixin, View):
    """POST from the fund page: start the assessment, then fill it in."""

    required_action = "assessment.edit"
    http_method_names = ["post"]

    def post(self, request, fund_pk):
        fund = get_object_or_404(SpecialFund.objects.restrict(request.user, "assessment.edit"), pk=fund_pk)
        try:
            assessment = services.assessment_create(actor=request.user, fund=fund)
        except ValidationError as exc:
            messages.error(request, "发起未成功：" + "".join(exc.messages))
            existing = selectors.open_assessment(fund)
            if existing is not None:
                return redirect("assessments:assessment_detail", pk=existing.pk)
            return redirect(reverse("funds:fund_detail", args=[fund.pk]) + "?tab=assessment")
        messages.success(request, f"已发起“{fund.name}”的事前绩效评估，请逐项填写评估内容。")
        return redirect("assessments:assessment_edit", pk=assessment.pk)


class AssessmentEditView(ActionRequiredMixin, FormView):
    required_action = "assessment.edit"
    template_name = "assessments/assessment_form.html"
    form_class = AssessmentForm

    @cached_property
    def assessment(self) -> ExAnteAssessment:
        queryset = selectors.assessment_detail_queryset(self.request.user).restrict(
            self.request.user, "assessment.edit"
        )
        return get_object_or_404(queryset, pk=self.kwargs["pk"])

    def get(self, request, *args, **kwargs):
        a = self.assessment
        if a.status not in services.EDITABLE_STATES:
            if a.status == S.COMPLETED:
                messages.error(request, "该事前绩效评估已完成，结论已作出，不能再修改。")
            else:
                messages.error(request, f"该评估当前状态为“{a.get_status_display()}”，不能修改。")
            return redirect("assessments:assessment_detail", pk=a.pk)
        return super().get(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.assessment}

    def form_valid(self, form):
        try:
            services.assessment_update(
                actor=self.request.user, assessment=self.assessment, **{f: form.cleaned_data[f] for f in form.fields}
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, "已保存评估内容。")
        return redirect("assessments:assessment_detail", pk=self.assessment.pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(assessment=self.assessment, fund=self.assessment.fund, **kwargs)
