"""Pages of key evaluations: plans with the coverage check and the fund picker, the evaluation list,
and one evaluation's frame, scores, findings, report and workflow. Thin: rules live in the services."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import TemplateView

from apps.core import permissions, years
from apps.core.views_mixins import ActionRequiredMixin, add_service_errors
from apps.orgs.models import Organization

from . import key_selectors as selectors
from . import key_services, plans
from .coverage import plan_coverage
from .forms_key import FundPickerForm, KeyFilterForm, PlanCreateForm
from .key_services import DIMENSIONS, LineEntry
from .models import EvaluationPlan, KeyEvaluation

KS = KeyEvaluation.Status


def _back(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _year_param(request) -> int | None:
    raw = request.GET.get("year", "")
    if raw.isdecimal():
        return int(raw)
    return years.selected_year(request)


# --- plans -----------------------------------------------------------------------------------


class PlanListView(ActionRequiredMixin, TemplateView):
    required_action = "plan.view"
    template_name = "evaluations/plan_list.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        year = _year_param(self.request)
        evaluator = plans.evaluator_for(user)
        plan_rows = list(selectors.plan_list(user=user, fiscal_year=year))
        return super().get_context_data(
            year=year,
            plans=plan_rows,
            previous_year=year - 1 if year else None,
            evaluator=evaluator,
            form=kwargs.pop("form", None) or PlanCreateForm(year=year),
            **kwargs,
        )


class PlanCreateView(ActionRequiredMixin, View):
    required_action = "plan.view"
    http_method_names = ["post"]

    def post(self, request):
        evaluator = plans.evaluator_for(request.user)
        if evaluator is None:
            raise PermissionDenied("只有财政部门或部门审核人可以编制重点评价计划。")
        form = PlanCreateForm(request.POST)
        if form.is_valid():
            try:
                plan = plans.plan_create(
                    actor=request.user,
                    organization=evaluator,
                    fiscal_year=form.cleaned_data["fiscal_year"],
                    name=form.cleaned_data["name"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"已创建“{plan.name}”，请选择评价项目后下达。")
                return redirect("evaluations:plan_detail", pk=plan.pk)
        view = PlanListView()
        view.setup(request)
        context = view.get_context_data(form=form)
        return render(request, "evaluations/plan_list.html", context, status=400)


class PlanMixin(ActionRequiredMixin):
    required_action = "plan.view"

    @cached_property
    def plan(self) -> EvaluationPlan:
        return get_object_or_404(
            EvaluationPlan.objects.restrict(self.request.user, "plan.view").select_related(
                "organization__region", "fiscal_year", "created_by"
            ),
            pk=self.kwargs["pk"],
        )

    def detail_url(self) -> str:
        return reverse("evaluations:plan_detail", args=[self.plan.pk])


class PlanDetailView(PlanMixin, TemplateView):
    template_name = "evaluations/plan_detail.html"
    page_size = 30

    def get_context_data(self, **kwargs):
        user, plan = self.request.user, self.plan
        may_manage = plans.may_manage(user, plan)
        coverage = plan_coverage(plan)
        evaluations = list(selectors.plan_evaluations(plan))
        context = {
            "plan": plan,
            "coverage": coverage,
            "fund_evaluations": [e for e in evaluations if e.fund_id],
            "department_evaluations": [e for e in evaluations if not e.fund_id],
            "may_manage": may_manage,
            "editable": may_manage and plan.status == EvaluationPlan.Status.DRAFT,
            "closable": may_manage and plan.status == EvaluationPlan.Status.ISSUED,
            "open_count": sum(1 for e in evaluations if e.status != KS.COMPLETED),
            "history": _history(plan, dict(EvaluationPlan.Status.choices)),
        }
        if context["editable"]:
            departments = selectors.picker_departments(plan)
            form = FundPickerForm(self.request.GET or None, departments=departments)
            filters = form.cleaned_data if form.is_valid() else {}
            candidates = selectors.candidate_funds(
                plan,
                q=(filters.get("q") or "").strip(),
                department=filters.get("department"),
                tag=filters.get("tag"),
                due_only=bool(filters.get("due")),
                coverage=coverage,
                sort=filters.get("sort") or "code",
            )
            page = Paginator(candidates, self.page_size).get_page(self.request.GET.get("page"))
            page.object_list = list(page.object_list)
            first_counted = coverage.window[0]
            for fund in page.object_list:
                fund.last_evaluated = coverage.last_evaluated.get(fund.pk)
                fund.is_due = fund.pk in coverage.due_ids
                fund.will_miss = fund.is_due and (fund.last_evaluated or 0) < first_counted
            query = self.request.GET.copy()
            query.pop("page", None)
            context.update(
                picker=form,
                page=page,
                query=query.urlencode(),
                department_candidates=selectors.department_candidates(plan),
            )
        return super().get_context_data(**context, **kwargs)


class PlanAddFundsView(PlanMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        ids = {int(i) for i in request.POST.getlist("fund") if i.isdecimal()}
        funds = list(selectors.funds_in_plan_scope(request.user, ids))
        if len(funds) != len(ids):
            messages.error(request, "所选项目不存在或不在您的范围内。")
        else:
            try:
                made = plans.plan_add_funds(actor=request.user, plan=self.plan, funds=funds)
            except ValidationError as exc:
                messages.error(request, "未能列入：" + "；".join(exc.messages))
            else:
                if made:
                    messages.success(request, f"已列入重点评价 {made} 个项目。")
                else:
                    messages.info(request, "所选项目均已在计划中。")
        return redirect(_back(request, self.detail_url()))


class PlanRemoveView(PlanMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk, evaluation_pk):
        evaluation = get_object_or_404(KeyEvaluation.objects.filter(plan=self.plan), pk=evaluation_pk)
        try:
            plans.plan_remove_evaluation(actor=request.user, plan=self.plan, evaluation=evaluation)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, "已移出评价计划。")
        return redirect(_back(request, self.detail_url()))


class PlanAddDepartmentView(PlanMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        raw = request.POST.get("department", "")
        department = (
            Organization.objects.restrict(request.user, "org.view").filter(pk=int(raw)).first()
            if raw.isdecimal()
            else None
        )
        if department is None:
            messages.error(request, "请选择要开展部门整体评价的部门。")
            return redirect(self.detail_url())
        try:
            plans.plan_add_department(actor=request.user, plan=self.plan, department=department)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, f"已列入部门整体评价：{department.name}。")
        return redirect(self.detail_url())


class PlanIssueView(PlanMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        try:
            plans.plan_issue(actor=request.user, plan=self.plan)
        except ValidationError as exc:
            messages.error(request, "未能下达：" + "；".join(exc.messages))
        else:
            messages.success(request, "评价计划已下达，各项评价可以开始。")
        return redirect(self.detail_url())


class PlanCloseView(PlanMixin, View):
    """POST: 办结计划 (issued → closed) by the plan's owner once every evaluation is completed."""

    http_method_names = ["post"]

    def post(self, request, pk):
        try:
            plans.plan_close(actor=request.user, plan=self.plan, comment=request.POST.get("comment", ""))
        except ValidationError as exc:
            messages.error(request, "未能办结：" + "；".join(exc.messages))
        else:
            messages.success(request, "评价计划已办结。")
        return redirect(self.detail_url())


# --- key evaluations -------------------------------------------------------------------------


class KeyListView(ActionRequiredMixin, TemplateView):
    required_action = "evaluation.view"
    template_name = "evaluations/key_list.html"
    page_size = 50

    def get_context_data(self, **kwargs):
        form = KeyFilterForm(self.request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        evaluations = selectors.key_list(
            user=self.request.user,
            fiscal_year=filters.get("fiscal_year"),
            status=filters.get("status") or "",
            kind=filters.get("kind") or "",
            subject=filters.get("subject") or "",
            q=(filters.get("q") or "").strip(),
        )
        page = Paginator(evaluations, self.page_size).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(
            form=form,
            page=page,
            query=query.urlencode(),
            may_view_plans=permissions.has_action(self.request.user, "plan.view"),
            **kwargs,
        )


def assign_url(evaluation: KeyEvaluation) -> str:
    """The agencies part's assignment page, if it is installed."""
    try:
        return reverse("agencies:assign_key_evaluation", args=[evaluation.pk])
    except NoReverseMatch:
        return ""


class KeyMixin(ActionRequiredMixin):
    required_action = "evaluation.view"

    @cached_property
    def evaluation(self) -> KeyEvaluation:
        return get_object_or_404(selectors.evaluation_queryset(self.request.user), pk=self.kwargs["pk"])

    def detail_url(self) -> str:
        return reverse("evaluations:key_detail", args=[self.evaluation.pk])

    def render_detail(self, request, *, errors=(), posted=None, status=200):
        user, evaluation = request.user, self.evaluation
        rules = key_services.rules_of(evaluation)
        groups = selectors.frame_groups(evaluation)
        lines = [line for group in groups for line in group.lines]
        _form_values(groups, posted)
        may_edit = evaluation.status in key_services.EDITABLE and permissions.can(
            user, evaluation.conduct_action, evaluation
        )
        available = {t.name for t in key_services.available_transitions(evaluation, user)}
        context = {
            "evaluation": evaluation,
            "plan": evaluation.plan,
            "groups": groups,
            "rules": rules,
            "running_total": sum((line.points for line in lines if line.points is not None), key_services.ZERO),
            "problems": key_services.submission_problems(evaluation, lines, rules)
            if evaluation.status == KS.IN_PROGRESS and may_edit
            else [],
            "has_report": key_services.has_report(evaluation),
            "may_edit": may_edit,
            "available": available,
            "experts": selectors.experts_of(evaluation),
            "may_assign": permissions.can(user, "evaluation.assign", evaluation),
            "assign_url": assign_url(evaluation),
            "history": _history(evaluation, dict(KS.choices)),
            "errors": errors,
            "posted": posted,
            "dimensions": [(d, key_services.DIMENSION_LABELS[d]) for d in DIMENSIONS],
            "may_view_plan": permissions.can(user, "plan.view", evaluation.plan),
        }
        return render(request, "evaluations/key_detail.html", context, status=status)


def _history(obj, labels: dict) -> list:
    """The audit rows of ``obj``; a status change reads “待评价 → 评价中”."""
    events = list(key_services.history(obj))
    for event in events:
        status = event.changes.get("status") if isinstance(event.changes, dict) else None
        if event.kind == "transition" and isinstance(status, dict):
            before, after = status.get("from"), status.get("to")
            event.step = f"{labels.get(before, before)} → {labels.get(after, after)}"
    return events


def _number(value) -> str:
    return "" if value is None else key_services.fmt(value)


def _form_values(groups, posted) -> None:
    """What each input shows: the saved values, or what was typed when the save was refused."""
    for group in groups:
        for line in group.lines:
            saved = {"name": line.name, "max_points": _number(line.max_points), "points": _number(line.points),
                     "comment": line.comment}  # fmt: skip
            if posted is not None:
                prefix = f"line-{line.pk}-"
                saved = {key: posted.get(prefix + key, value) for key, value in saved.items()}
                saved["delete"] = bool(posted.get(prefix + "delete"))
            line.form = saved
        group.new_rows = [
            {
                "n": n,
                **{
                    key: (posted.get(f"new-{group.dimension}-{n}-{key}", "") if posted is not None else "")
                    for key in ("name", "max_points", "points", "comment")
                },
            }
            for n in range(1)
        ]


class KeyDetailView(KeyMixin, View):
    def get(self, request, pk):
        return self.render_detail(request)


def lines_from_post(post) -> list[LineEntry]:
    """The frame as typed: existing rows ``line-<id>-…`` (unless ticked for removal) and, per
    dimension, new rows ``new-<dimension>-<n>-…`` whose name is filled in."""
    entries: list[LineEntry] = []
    for raw in post.getlist("line"):
        if not raw.isdecimal() or post.get(f"line-{raw}-delete"):
            continue
        prefix = f"line-{raw}-"
        entries.append(
            LineEntry(
                id=int(raw),
                dimension=post.get(prefix + "dimension", ""),
                name=post.get(prefix + "name", ""),
                max_points=post.get(prefix + "max_points", ""),
                points=post.get(prefix + "points", ""),
                comment=post.get(prefix + "comment", ""),
            )
        )
    for dimension in DIMENSIONS:
        for n in range(3):
            prefix = f"new-{dimension}-{n}-"
            name = post.get(prefix + "name", "").strip()
            if not name:
                continue
            entries.append(
                LineEntry(
                    dimension=dimension,
                    name=name,
                    max_points=post.get(prefix + "max_points", ""),
                    points=post.get(prefix + "points", ""),
                    comment=post.get(prefix + "comment", ""),
                )
            )
    return entries


class KeySaveView(KeyMixin, View):
    """Save the frame, the scores, the weights, the findings and the recommendations together."""

    http_method_names = ["post"]

    def post(self, request, pk):
        post = request.POST
        try:
            key_services.evaluation_save(
                actor=request.user,
                evaluation=self.evaluation,
                lines=lines_from_post(post),
                weights={d: post.get(f"weight_{d}", "") for d in DIMENSIONS}
                if any(f"weight_{d}" in post for d in DIMENSIONS)
                else None,
                findings=post.get("findings", ""),
                recommendations=post.get("recommendations", ""),
            )
        except ValidationError as exc:
            return self.render_detail(request, errors=exc.messages, posted=post, status=400)
        messages.success(request, "评价评分已保存。")
        if post.get("then") == "submit":
            return KeyTransitionView.as_view()(request, pk=pk, action="submit")
        return redirect(self.detail_url())


class KeyWeightsView(KeyMixin, View):
    """Change the weights and scale every dimension's lines to them."""

    http_method_names = ["post"]

    def post(self, request, pk):
        try:
            key_services.evaluation_set_weights(
                actor=request.user,
                evaluation=self.evaluation,
                weights={d: request.POST.get(f"weight_{d}", "") for d in DIMENSIONS},
            )
        except ValidationError as exc:
            messages.error(request, "权重未调整：" + "；".join(exc.messages))
        else:
            messages.success(request, "权重已调整，各项指标分值已按新权重等比例调整，请核对。")
        return redirect(self.detail_url())


class KeyTransitionView(KeyMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk, action):
        if action not in key_services.TRANSITION_NAMES:
            raise Http404("未知操作。")
        try:
            key_services.evaluation_transition(
                actor=request.user, evaluation=self.evaluation, name=action, comment=request.POST.get("comment", "")
            )
        except ValidationError as exc:
            messages.error(request, "操作未成功：" + "；".join(exc.messages))
        else:
            messages.success(request, "操作成功。")
        return redirect(self.detail_url())
