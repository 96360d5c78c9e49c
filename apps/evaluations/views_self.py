"""Pages of 单位自评: rounds, the list, the detail with the score breakdown, the fill-in form with
its live score, the workflow buttons and finance's adjustment. Thin: reads from ``selectors``,
every write through ``services``."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import TemplateView

from apps.core import permissions, years
from apps.core.models import AuditEvent
from apps.core.views_mixins import ActionRequiredMixin, add_service_errors
from apps.orgs.models import FiscalYear

from . import scoring, selectors, services
from .forms import (
    AdjustForm,
    SelfEvaluationFilterForm,
    SelfRoundOpenForm,
    entries_from,
    line_field,
    saved_values,
    wan_from_yuan,
    yuan_from_wan,
)
from .models import SelfEvaluation, SelfEvaluationLine, SelfEvaluationRound

PAGE_SIZE = 50
SS = SelfEvaluation.Status


def _year(request) -> FiscalYear | None:
    return FiscalYear.objects.filter(pk=years.selected_year(request)).first()


def _previous_year(request) -> int | None:
    """The last ended year, when the selected one has not ended yet (self-evaluation looks back)."""
    year = years.selected_year(request)
    if year is None or year < timezone.localdate().year:
        return None
    return year - 1 if (year - 1) in {fy.year for fy in years.fiscal_years(request)} else None


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- rounds ------------------------------------------------------------------------------------


class SelfRoundListView(ActionRequiredMixin, TemplateView):
    """The self-evaluation rounds of the selected year; finance opens its region's round here."""

    required_action = "selfeval.round"
    template_name = "evaluations/self_round_list.html"

    def get_context_data(self, **kwargs):
        user, year = self.request.user, years.selected_year(self.request)
        bureau = selectors.finance_bureau_of(user)
        form = kwargs.pop("form", None) or SelfRoundOpenForm(
            initial={"due_on": date(year + 1, 3, 31)} if year else None
        )
        return super().get_context_data(
            rounds=selectors.round_list(user=user, fiscal_year=year),
            may_open=bureau is not None and permissions.can(user, "selfeval.manage", bureau),
            year_ended=year is not None and timezone.localdate().year > year,
            previous_year=_previous_year(self.request),
            form=form,
            **kwargs,
        )

    def post(self, request):
        bureau, year = selectors.finance_bureau_of(request.user), _year(request)
        if bureau is None or not permissions.can(request.user, "selfeval.manage", bureau):
            raise PermissionDenied("只有区域财政部门可以开启单位自评。")
        form = SelfRoundOpenForm(request.POST)
        if form.is_valid() and year is not None:
            try:
                round_, made = services.round_open(
                    actor=request.user, organization=bureau, fiscal_year=year, **form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"单位自评已开启，新建自评任务 {made} 个。")
                return redirect("evaluations:self_round_detail", pk=round_.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class SelfRoundDetailView(ActionRequiredMixin, TemplateView):
    """One round: counts per status and grade, and its evaluations (filterable, paginated)."""

    required_action = "selfeval.round"
    template_name = "evaluations/self_round_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        round_ = get_object_or_404(
            SelfEvaluationRound.objects.restrict(user, "selfeval.round").select_related("organization"),
            pk=self.kwargs["pk"],
        )
        form = SelfEvaluationFilterForm(self.request.GET or None, user=user)
        filters = form.cleaned_data if form.is_valid() else {}
        rows = selectors.evaluation_list(user=user, round_=round_, **filters)
        return super().get_context_data(
            round=round_,
            counts=selectors.round_counts(user=user, round_=round_),
            form=form,
            page=Paginator(rows, PAGE_SIZE).get_page(self.request.GET.get("page")),
            may_manage=permissions.can(user, "selfeval.manage", round_.organization),
            query=_query_without_page(self.request),
            **kwargs,
        )


class SelfRoundCloseView(ActionRequiredMixin, View):
    required_action = "selfeval.manage"
    http_method_names = ["post"]

    def post(self, request, pk):
        round_ = get_object_or_404(SelfEvaluationRound.objects.restrict(request.user, "selfeval.round"), pk=pk)
        try:
            services.round_close(actor=request.user, round_=round_)
            messages.success(request, f"“{round_.name}”已结束。")
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        return redirect("evaluations:self_round_detail", pk=pk)


# --- the list of the selected year ---------------------------------------------------------------


class SelfListView(ActionRequiredMixin, TemplateView):
    required_action = "selfeval.view"
    template_name = "evaluations/self_list.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        form = SelfEvaluationFilterForm(self.request.GET or None, user=user)
        filters = form.cleaned_data if form.is_valid() else {}
        rows = selectors.evaluation_list(user=user, fiscal_year=years.selected_year(self.request), **filters)
        return super().get_context_data(
            form=form,
            page=Paginator(rows, PAGE_SIZE).get_page(self.request.GET.get("page")),
            query=_query_without_page(self.request),
            previous_year=_previous_year(self.request),
            **kwargs,
        )


# --- one evaluation --------------------------------------------------------------------------------


class EvaluationMixin(ActionRequiredMixin):
    required_action = "selfeval.view"
    scope_action = "selfeval.view"

    @cached_property
    def evaluation(self) -> SelfEvaluation:
        return get_object_or_404(
            SelfEvaluation.objects.restrict(self.request.user, self.scope_action).select_related(
                "fund__department", "organization", "round__organization", "target"
            ),
            pk=self.kwargs["pk"],
        )


def _status_label(code: str) -> str:
    return dict(SS.choices).get(code, code)


def _history(evaluation: SelfEvaluation) -> list[tuple[AuditEvent, str, str]]:
    """Every audited change of the evaluation (saves, workflow steps, adjustments), oldest first."""
    rows = []
    for event in AuditEvent.objects.for_object(evaluation).order_by("occurred_at", "id"):
        status = event.changes.get("status") if event.kind == AuditEvent.Kind.TRANSITION else None
        if isinstance(status, dict):
            rows.append((event, _status_label(status.get("from")), _status_label(status.get("to"))))
        else:
            rows.append((event, "", ""))
    return rows


def _score_context(evaluation, lines, result) -> dict:
    if result is None:
        return {"result": None, "groups": [], "max_total": None}
    return {
        "result": result,
        "groups": selectors.breakdown(result, lines),
        "max_total": sum((c.weight for c in result.categories), scoring.ZERO),
    }


class SelfDetailView(EvaluationMixin, TemplateView):
    """The self-evaluation as everyone sees it: values, the score breakdown, the monitoring
    figures for reference, attachments, the audit trail and the buttons the user may press."""

    template_name = "evaluations/self_detail.html"

    def get_context_data(self, **kwargs):
        user, evaluation = self.request.user, self.evaluation
        lines = selectors.evaluation_lines(evaluation)
        rules = services.rules_for(evaluation.round.organization.region_id, evaluation.round.fiscal_year_id)
        scoring_error = ""
        try:
            result = services.compute(evaluation, lines, rules)
        except scoring.ScoringError as exc:
            result, scoring_error = None, str(exc)
        available = {t.name for t in services.SELF_FLOW.available(evaluation, user)}
        round_open = evaluation.round.status == SelfEvaluationRound.Status.OPEN
        reference = selectors.monitoring_reference(user=user, evaluation=evaluation)
        return super().get_context_data(
            evaluation=evaluation,
            rows=[(line, reference.for_line(line) if reference else None) for line in lines],
            reference=reference,
            rate=selectors.execution_rate(evaluation),
            scoring_error=scoring_error,
            problems=services.submission_problems(evaluation, lines, result) if result and "send" in available else [],
            available=available,
            may_edit=evaluation.status in services.EDITABLE
            and round_open
            and permissions.can(user, "selfeval.fill", evaluation),
            may_adjust=evaluation.status in services.ADJUSTABLE
            and permissions.can(user, "selfeval.adjust", evaluation),
            adjustments=list(evaluation.adjustments.select_related("adjusted_by")),
            adjust_form=kwargs.pop("adjust_form", None) or AdjustForm(),
            history=_history(evaluation),
            **_score_context(evaluation, lines, result),
            **kwargs,
        )


class SelfAdjustView(SelfDetailView):
    """Finance's adjustment (score and written reason); errors shown on the detail page."""

    required_action = "selfeval.adjust"
    http_method_names = ["post"]

    def post(self, request, pk):
        form = AdjustForm(request.POST)
        if form.is_valid():
            try:
                services.evaluation_adjust(actor=request.user, evaluation=self.evaluation, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "得分已调整，原自评得分和调整理由已记录。")
                return redirect("evaluations:self_detail", pk=pk)
        return self.render_to_response(self.get_context_data(adjust_form=form), status=400)


class SelfTransitionView(EvaluationMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk, action):
        if action not in services.TRANSITIONS:
            raise Http404("未知操作。")
        label = services.SELF_FLOW.transitions[action].label
        try:
            services.evaluation_transition(
                actor=request.user, evaluation=self.evaluation, name=action, comment=request.POST.get("comment", "")
            )
        except ValidationError as exc:
            messages.error(request, f"“{label}”未成功：" + "；".join(exc.messages))
        else:
            messages.success(request, f"已{label}。")
        return redirect("evaluations:self_detail", pk=pk)


class SelfEditView(EvaluationMixin, View):
    """The fill-in form: executed amount (万元), per indicator the actual value (or band and
    percentage), and reason and measure for every shortfall. The score follows the typing
    (``SelfPreviewView``); saving keeps incomplete work; sending needs everything."""

    required_action = "selfeval.fill"

    def check(self) -> None:
        evaluation = self.evaluation
        if not permissions.can(self.request.user, "selfeval.fill", evaluation):
            raise Http404("单位自评不存在或不在您的填报范围内。")
        if evaluation.status not in services.EDITABLE:
            raise PermissionDenied(f"单位自评当前状态为“{evaluation.get_status_display()}”，不能修改。")
        if evaluation.round.status == SelfEvaluationRound.Status.CLOSED:
            raise PermissionDenied("该自评批次已结束，不能再修改。")

    def render(self, request, *, posted=None, errors=None, status=200):
        evaluation = self.evaluation
        lines = selectors.evaluation_lines(evaluation)
        rules = services.rules_for(evaluation.round.organization.region_id, evaluation.round.fiscal_year_id)
        errors = errors or {}
        if posted is not None:
            preview = services.evaluation_preview(
                evaluation=evaluation,
                lines=lines,
                rules=rules,
                executed_amount=yuan_from_wan(posted.get("executed_wan")),
                entries=entries_from(posted, lines),
                execution_reason=posted.get("execution_reason", ""),
                execution_measure=posted.get("execution_measure", ""),
            )
            result, problems, scoring_error = preview.result, preview.problems, ""
            head = {name: posted.get(name, "") for name in ("executed_wan", "execution_reason", "execution_measure",
                                                            "summary")}  # fmt: skip
        else:
            scoring_error, problems = "", []
            try:
                result = services.compute(evaluation, lines, rules)
                problems = services.submission_problems(evaluation, lines, result)
            except scoring.ScoringError as exc:
                result, scoring_error = None, str(exc)
            head = {
                "executed_wan": wan_from_yuan(evaluation.executed_amount),
                "execution_reason": evaluation.execution_reason,
                "execution_measure": evaluation.execution_measure,
                "summary": evaluation.summary,
            }
        reference = selectors.monitoring_reference(user=request.user, evaluation=evaluation)
        rows = []
        for line in lines:
            saved = saved_values(line)
            values = saved if posted is None else {n: posted.get(line_field(line, n), "") for n in saved}
            rows.append(
                {
                    "line": line,
                    "values": values,
                    "errors": {n: errors.get(line_field(line, n), []) for n in saved},
                    "ref": reference.for_line(line) if reference else None,
                }
            )
        return render(
            request,
            "evaluations/self_edit.html",
            {
                "evaluation": evaluation,
                "rows": rows,
                "head": head,
                "reference": reference,
                "executed_errors": errors.get("executed_amount", []),
                "error_list": [m for messages_ in errors.values() for m in messages_],
                "bands": SelfEvaluationLine.Band.choices,
                "rules": rules,
                "problems": problems,
                "scoring_error": scoring_error,
                "live": True,
                "compact": True,
                **_score_context(evaluation, lines, result),
            },
            status=status,
        )

    def get(self, request, pk):
        self.check()
        return self.render(request)

    def post(self, request, pk):
        self.check()
        lines = selectors.evaluation_lines(self.evaluation)
        try:
            services.evaluation_save(
                actor=request.user,
                evaluation=self.evaluation,
                executed_amount=yuan_from_wan(request.POST.get("executed_wan")),
                entries=entries_from(request.POST, lines),
                execution_reason=request.POST.get("execution_reason", ""),
                execution_measure=request.POST.get("execution_measure", ""),
                summary=request.POST.get("summary", ""),
            )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            return self.render(request, posted=request.POST, errors=errors, status=400)
        except scoring.ScoringError as exc:  # the target itself cannot be scored (e.g. no target value)
            return self.render(request, posted=request.POST, errors={"__all__": [str(exc)]}, status=400)
        if request.POST.get("then") != "send":
            messages.success(request, "单位自评已保存。")
            return redirect("evaluations:self_detail", pk=pk)
        try:
            services.evaluation_transition(actor=request.user, evaluation=self.evaluation, name="send")
        except ValidationError as exc:
            messages.warning(request, "已保存，但还不能提交部门审核：" + "；".join(exc.messages))
            return redirect("evaluations:self_edit", pk=pk)
        messages.success(request, "单位自评已保存并提交部门审核。")
        return redirect("evaluations:self_detail", pk=pk)


class SelfPreviewView(EvaluationMixin, View):
    """htmx: the score breakdown of what is typed, computed on unsaved objects (no writes)."""

    required_action = "selfeval.fill"
    scope_action = "selfeval.fill"
    http_method_names = ["post"]

    def post(self, request, pk):
        evaluation = self.evaluation
        lines = selectors.evaluation_lines(evaluation)
        preview = services.evaluation_preview(
            evaluation=evaluation,
            lines=lines,
            executed_amount=yuan_from_wan(request.POST.get("executed_wan")),
            entries=entries_from(request.POST, lines),
            execution_reason=request.POST.get("execution_reason", ""),
            execution_measure=request.POST.get("execution_measure", ""),
        )
        # Without the request context: the page shell (menu, years) is not part of the fragment.
        return HttpResponse(
            render_to_string(
                "evaluations/partials/self_breakdown.html",
                {
                    "evaluation": evaluation,
                    "problems": preview.problems,
                    "preview_errors": preview.messages,
                    "live": True,
                    "compact": True,
                    **_score_context(evaluation, lines, preview.result),
                },
            )
        )
