"""Pages of the district fiscal-operation evaluation (区市财政运行综合绩效评价). Thin: reads from
``selectors_fiscal``, writes through ``services_fiscal``.

City finance: list, create, the evaluation page (frame, 启动填报, status table, 发布), scoring, the
ranking with its chart, Excel. A district finance office: its own submissions (fill, evidence,
报送) and, once published, the ranking. Everyone else: 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from apps.core import permissions
from apps.core.excel import content_disposition
from apps.core.models import AuditEvent
from apps.core.params import int_param
from apps.core.views_mixins import ActionRequiredMixin, add_service_errors

from . import excel_fiscal
from . import selectors_fiscal as selectors
from . import services_fiscal as services
from . import services_fiscal_scoring as scoring
from .forms_fiscal import (
    EvaluationEditForm,
    EvaluationForm,
    IndicatorForm,
    PublishForm,
    ReturnForm,
    ScoreForm,
    ValuesForm,
)
from .models import FiscalEvaluation, FiscalIndicator, FiscalSubmission

EStatus = FiscalEvaluation.Status
SStatus = FiscalSubmission.Status


def submission_history(submission: FiscalSubmission, *, show_scores: bool) -> list[AuditEvent]:
    """操作记录, newest first. Before the results are published a district doesn't read the city's
    re-scoring reasons (they tend to name scores): it sees “重新评分” alone."""
    events = list(AuditEvent.objects.for_object(submission).select_related("actor").order_by("-occurred_at", "-pk"))
    if not show_scores:
        for event in events:
            if event.comment.startswith("重新评分"):
                event.comment = "重新评分"
    return events


class FiscalListView(ActionRequiredMixin, TemplateView):
    required_action = "fiscal.view"
    template_name = "supervision/fiscal_list.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        city = selectors.is_city_reader(user)
        return super().get_context_data(
            city=city,
            evaluations=selectors.evaluation_list(user=user) if city else [],
            submissions=[] if city else selectors.own_submission_list(user=user),
            may_manage=permissions.has_action(user, "fiscal.manage"),
            **kwargs,
        )


class FiscalCreateView(ActionRequiredMixin, TemplateView):
    required_action = "fiscal.manage"
    template_name = "supervision/fiscal_form.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", EvaluationForm())
        return super().get_context_data(**kwargs)

    def post(self, request):
        form = EvaluationForm(request.POST)
        if form.is_valid():
            try:
                evaluation = services.fiscal_evaluation_create(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "已新建评价，并生成默认指标体系（可在启动填报前调整）。")
                return redirect("supervision:fiscal_detail", pk=evaluation.pk)
        return self.render_to_response(self.get_context_data(form=form))


class FiscalDetailView(ActionRequiredMixin, TemplateView):
    """The organiser's page: frame, status table, open and publish. A district gets 404 here."""

    required_action = "fiscal.view"
    template_name = "supervision/fiscal_detail.html"

    def evaluation(self) -> FiscalEvaluation:
        return selectors.evaluation_for(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        evaluation = kwargs.pop("evaluation", None) or self.evaluation()
        user = self.request.user
        may_manage = permissions.can(user, "fiscal.manage", evaluation)
        indicators = selectors.indicators_of(evaluation)
        total_points = sum((i.max_points for i in indicators), 0)
        submissions = selectors.submission_rows(evaluation)
        for s in submissions:  # reported after the due date: shown as 逾期
            s.late = bool(
                evaluation.due_on and s.submitted_at and timezone.localdate(s.submitted_at) > evaluation.due_on
            )
        return super().get_context_data(
            evaluation=evaluation,
            groups=selectors.groups_of(indicators),
            total_points=total_points,
            submissions=submissions,
            may_manage=may_manage,
            frame_editable=may_manage and services.frame_editable(evaluation),
            indicator_form=kwargs.pop("indicator_form", None) or IndicatorForm(initial={"direction": "higher"}),
            publish_form=kwargs.pop("publish_form", None) or PublishForm(initial={"summary": evaluation.summary}),
            edit_form=kwargs.pop("edit_form", None)
            or EvaluationEditForm(initial={"title": evaluation.title, "due_on": evaluation.due_on}),
            all_scored=bool(submissions) and all(s.status == SStatus.SCORED for s in submissions),
            history=AuditEvent.objects.for_object(evaluation).select_related("actor").order_by("-occurred_at", "-pk"),
            **kwargs,
        )

    def post(self, request, pk):
        evaluation = self.evaluation()
        if not permissions.can(request.user, "fiscal.manage", evaluation):
            raise PermissionDenied("只有市财政局绩效管理处可以进行该操作。")
        op = request.POST.get("op", "")
        if op == "add":
            form = IndicatorForm(request.POST)
            if form.is_valid():
                try:
                    services.fiscal_indicator_add(actor=request.user, evaluation=evaluation, **form.cleaned_data)
                except ValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    messages.success(request, "已新增指标。")
                    return redirect("supervision:fiscal_detail", pk=pk)
            return self.render_to_response(self.get_context_data(evaluation=evaluation, indicator_form=form))
        if op == "update":
            form = EvaluationEditForm(request.POST)
            if form.is_valid():
                try:
                    services.fiscal_evaluation_update(actor=request.user, evaluation=evaluation, **form.cleaned_data)
                except ValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    messages.success(request, "已保存评价名称和截止日期。")
                    return redirect("supervision:fiscal_detail", pk=pk)
            return self.render_to_response(self.get_context_data(evaluation=evaluation, edit_form=form))
        if op == "delete":
            indicator_id = int_param(request.POST.get("indicator"))
            if indicator_id is None:
                messages.error(request, "请选择要删除的指标。")
                return redirect("supervision:fiscal_detail", pk=pk)
            indicator = get_object_or_404(FiscalIndicator, pk=indicator_id, evaluation=evaluation)
            try:
                services.fiscal_indicator_delete(actor=request.user, indicator=indicator)
            except ValidationError as exc:
                messages.error(request, "；".join(exc.messages))
            else:
                messages.success(request, f"已删除指标“{indicator.name}”。")
            return redirect("supervision:fiscal_detail", pk=pk)
        if op == "open":
            try:
                services.fiscal_evaluation_open(actor=request.user, evaluation=evaluation)
            except ValidationError as exc:
                messages.error(request, "；".join(exc.messages))
            else:
                messages.success(request, "已启动区市填报。")
            return redirect("supervision:fiscal_detail", pk=pk)
        if op == "publish":
            form = PublishForm(request.POST)
            if form.is_valid():
                try:
                    services.fiscal_publish(actor=request.user, evaluation=evaluation, **form.cleaned_data)
                except ValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    messages.success(request, "已发布评价结果。")
                    return redirect("supervision:fiscal_ranking", pk=pk)
            return self.render_to_response(self.get_context_data(evaluation=evaluation, publish_form=form))
        raise Http404("未知操作。")


class FiscalIndicatorEditView(ActionRequiredMixin, TemplateView):
    required_action = "fiscal.manage"
    template_name = "supervision/fiscal_indicator_form.html"

    def indicator(self) -> FiscalIndicator:
        evaluations = FiscalEvaluation.objects.restrict(self.request.user, "fiscal.manage")
        return get_object_or_404(
            FiscalIndicator.objects.select_related("evaluation"), pk=self.kwargs["pk"], evaluation__in=evaluations
        )

    def get_context_data(self, **kwargs):
        indicator = kwargs.pop("indicator", None) or self.indicator()
        fields = ("group", "name", "unit", "direction", "max_points", "guidance")
        kwargs.setdefault("form", IndicatorForm(initial={f: getattr(indicator, f) for f in fields}))
        return super().get_context_data(indicator=indicator, evaluation=indicator.evaluation, **kwargs)

    def post(self, request, pk):
        indicator = self.indicator()
        form = IndicatorForm(request.POST)
        if form.is_valid():
            try:
                services.fiscal_indicator_update(actor=request.user, indicator=indicator, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "已保存指标。")
                return redirect("supervision:fiscal_detail", pk=indicator.evaluation_id)
        return self.render_to_response(self.get_context_data(indicator=indicator, form=form))


class FiscalSubmissionView(ActionRequiredMixin, TemplateView):
    """One district's data: the district fills and submits; the city reads and returns."""

    required_action = "fiscal.view"
    template_name = "supervision/fiscal_submission.html"

    def submission(self) -> FiscalSubmission:
        return selectors.submission_for(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        submission = kwargs.pop("submission", None) or self.submission()
        user = self.request.user
        evaluation = submission.evaluation
        values = kwargs.pop("values", None) or selectors.values_of(submission)
        may_fill = (
            permissions.can(user, "fiscal.fill", submission)
            and submission.status in (SStatus.DRAFT, SStatus.RETURNED)
            and evaluation.status in (EStatus.COLLECTING, EStatus.SCORING)
        )
        may_manage = permissions.can(user, "fiscal.manage", evaluation)
        organiser = selectors.is_organiser(user, evaluation)
        published = evaluation.status == EStatus.PUBLISHED
        return super().get_context_data(
            submission=submission,
            evaluation=evaluation,
            form=kwargs.pop("form", None) or ValuesForm(values=values, editable=may_fill),
            values=values,
            may_fill=may_fill,
            may_manage=may_manage,
            may_return=may_manage and submission.status == SStatus.SUBMITTED and not published,
            may_score=may_manage and submission.status in (SStatus.SUBMITTED, SStatus.SCORED) and not published,
            # a district sees its own scores once the results are published; the city always
            show_scores=organiser or published,
            return_form=kwargs.pop("return_form", None) or ReturnForm(),
            history=submission_history(submission, show_scores=organiser or published),
            **kwargs,
        )

    def post(self, request, pk):
        submission = self.submission()
        op = request.POST.get("op", "")
        if op in ("save", "submit"):
            if not permissions.can(request.user, "fiscal.fill", submission):
                raise PermissionDenied("只有本区市财政局可以填报和报送本区市数据。")
            values = selectors.values_of(submission)
            form = ValuesForm(request.POST, values=values)
            if form.is_valid():
                try:
                    scoring.fiscal_values_save(actor=request.user, submission=submission, data=form.entries())
                    if op == "submit":
                        scoring.fiscal_submit(actor=request.user, submission=submission)
                except ValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    messages.success(request, "已报送市财政局。" if op == "submit" else "已保存。")
                    return redirect("supervision:fiscal_submission", pk=pk)
            return self.render_to_response(self.get_context_data(submission=submission, values=values, form=form))
        if op == "return":
            if not permissions.can(request.user, "fiscal.manage", submission.evaluation):
                raise PermissionDenied("只有市财政局绩效管理处可以退回。")
            form = ReturnForm(request.POST)
            if form.is_valid():
                try:
                    scoring.fiscal_return(
                        actor=request.user, submission=submission, comment=form.cleaned_data["return_comment"]
                    )
                except ValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    messages.success(request, "已退回区市修改。")
                    return redirect("supervision:fiscal_detail", pk=submission.evaluation_id)
            return self.render_to_response(self.get_context_data(submission=submission, return_form=form))
        raise Http404("未知操作。")


class FiscalScoreView(ActionRequiredMixin, TemplateView):
    required_action = "fiscal.manage"
    template_name = "supervision/fiscal_score.html"

    def submission(self) -> FiscalSubmission:
        submission = selectors.submission_for(user=self.request.user, pk=self.kwargs["pk"])
        if not permissions.can(self.request.user, "fiscal.manage", submission.evaluation):
            raise Http404("未找到该填报。")
        return submission

    @staticmethod
    def may_score(submission: FiscalSubmission) -> bool:
        return (
            submission.status in (SStatus.SUBMITTED, SStatus.SCORED)
            and submission.evaluation.status != EStatus.PUBLISHED
        )

    def get_context_data(self, **kwargs):
        submission = kwargs.pop("submission", None) or self.submission()
        values = selectors.values_of(submission)
        suggestions = selectors.suggestions_for(submission, values)
        may_score = self.may_score(submission)
        kwargs.setdefault(
            "form",
            ScoreForm(
                values=values,
                suggestions=suggestions,
                comment=submission.comment,
                editable=may_score,
                rescoring=may_score and submission.status == SStatus.SCORED,
            ),
        )
        return super().get_context_data(
            submission=submission,
            evaluation=submission.evaluation,
            may_score=may_score,
            published=submission.evaluation.status == EStatus.PUBLISHED,
            **kwargs,
        )

    def post(self, request, pk):
        submission = self.submission()
        values = selectors.values_of(submission)
        form = ScoreForm(
            request.POST,
            values=values,
            suggestions=selectors.suggestions_for(submission, values),
            editable=self.may_score(submission),
            rescoring=submission.status == SStatus.SCORED,
        )
        if form.is_valid():
            try:
                scoring.fiscal_score(
                    actor=request.user,
                    submission=submission,
                    scores=form.scores(),
                    comment=form.cleaned_data["comment"],
                    reason=form.cleaned_data.get("reason", ""),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"已完成{submission.organization.name}的评分。")
                return redirect("supervision:fiscal_detail", pk=submission.evaluation_id)
        return self.render_to_response(self.get_context_data(submission=submission, form=form))


class FiscalRankingView(ActionRequiredMixin, TemplateView):
    required_action = "fiscal.view"
    template_name = "supervision/fiscal_ranking.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        evaluation = selectors.ranking_evaluation(user=user, pk=self.kwargs["pk"])
        result = selectors.ranking(evaluation)
        organiser = selectors.is_organiser(user, evaluation)
        own = None
        if not organiser:
            own = FiscalSubmission.objects.restrict(user, "fiscal.view").filter(evaluation=evaluation).first()
        return super().get_context_data(
            evaluation=evaluation,
            ranking=result,
            organiser=organiser,
            own=own,
            chart=result.chart(),
            group_heads=list(zip(result.groups, result.group_points, strict=True)),
            **kwargs,
        )


class FiscalExportView(ActionRequiredMixin, View):
    """Excel (sheets 排名 and 指标值): the organiser only — the value sheet shows every district."""

    required_action = "fiscal.view"

    def get(self, request, pk):
        evaluation = selectors.evaluation_for(user=request.user, pk=pk)
        content = excel_fiscal.export(evaluation)
        response = HttpResponse(
            content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = content_disposition(excel_fiscal.file_name(evaluation, timezone.localdate()))
        return response
