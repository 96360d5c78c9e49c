"""Pages of the agency and expert registry, assignments, "my jobs" and quality appraisals (thin)."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import TemplateView

from apps.accounts.models import User
from apps.assessments.models import ExAnteAssessment
from apps.core import permissions
from apps.core.views_mixins import ActionRequiredMixin, add_service_errors, htmx_template
from apps.evaluations.models import KeyEvaluation

from . import jobs, selectors, services
from .forms import (
    AgencyFilterForm,
    AgencyForm,
    AppraisalForm,
    AssignForm,
    ExpertFilterForm,
    ExpertForm,
    ReasonForm,
    TieForm,
)
from .models import Agency, Expert


def _query(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _errors(exc: ValidationError) -> str:
    return "；".join(exc.messages)


# --- agencies --------------------------------------------------------------------------------------


class AgencyListView(ActionRequiredMixin, TemplateView):
    required_action = "registry.view"
    page_size = 50

    def get_template_names(self):
        return [htmx_template(self.request, "agencies/agency_list.html", "agencies/partials/agency_table.html")]

    def get_context_data(self, **kwargs):
        user = self.request.user
        form = AgencyFilterForm(self.request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        agencies = selectors.agency_list(user=user, **filters)
        page = Paginator(agencies, self.page_size).get_page(self.request.GET.get("page"))
        return super().get_context_data(
            form=form,
            page=page,
            query=_query(self.request),
            may_manage=permissions.has_action(user, "registry.manage"),
            may_view_appraisals=permissions.has_action(user, "appraisal.view"),
            **kwargs,
        )


class AgencyMixin(ActionRequiredMixin):
    required_action = "registry.view"

    @cached_property
    def agency(self) -> Agency:
        return get_object_or_404(
            selectors.agency_list(user=self.request.user, action=self.required_action), pk=self.kwargs["pk"]
        )


class AgencyDetailView(AgencyMixin, TemplateView):
    """Qualifications, contact, staff accounts, ties, job history and appraisals (with the average)."""

    template_name = "agencies/agency_detail.html"

    def get_context_data(self, **kwargs):
        user, agency = self.request.user, self.agency
        may_manage = permissions.can(user, "registry.manage", agency)
        history = selectors.agency_jobs(user=user, agency=agency)
        may_appraise = permissions.has_action(user, "appraisal.manage")
        for kind, rows in zip(jobs.JOB_KINDS, (history["key_evaluations"], history["assessments"]), strict=True):
            for job in rows:
                job.url = kind.detail_url(job.pk)
                job.may_assign = kind.may_assign(user, job)
                job.may_appraise = may_appraise and kind.may_appraise(user, job)
        staff = (
            User.objects.filter(organization_id=agency.organization_id).order_by("-is_active", "username")
            if agency.organization_id
            else []
        )
        return super().get_context_data(
            agency=agency,
            may_manage=may_manage,
            staff=staff,
            ties=selectors.ties_of(agency=agency),
            jobs=history,
            appraisals=list(selectors.appraisal_list(user=user, agency=agency)),
            may_view_appraisals=permissions.has_action(user, "appraisal.view"),
            tie_form=kwargs.pop("tie_form", None) or (TieForm(user=user) if may_manage else None),
            reason_form=kwargs.pop("reason_form", None) or ReasonForm(),
            **kwargs,
        )


class AgencyFormView(ActionRequiredMixin, TemplateView):
    required_action = "registry.manage"
    template_name = "agencies/agency_form.html"

    def get_agency(self) -> Agency | None:
        return None

    def get_context_data(self, **kwargs):
        agency = self.get_agency()
        if "form" not in kwargs:
            initial = {f: getattr(agency, f) for f in services.AGENCY_FIELDS} if agency else {}
            kwargs["form"] = AgencyForm(initial=initial, user=self.request.user, agency=agency)
        return super().get_context_data(agency=agency, **kwargs)

    def post(self, request, *args, **kwargs):
        agency = self.get_agency()
        form = AgencyForm(request.POST, user=request.user, agency=agency)
        if form.is_valid():
            try:
                if agency is None:
                    agency = services.agency_create(actor=request.user, **form.cleaned_data)
                    messages.success(request, f"已登记第三方机构“{agency.name}”。")
                else:
                    services.agency_update(actor=request.user, agency=agency, **form.cleaned_data)
                    messages.success(request, "已保存机构信息。")
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect("agencies:agency_detail", pk=agency.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class AgencyCreateView(AgencyFormView):
    pass


class AgencyEditView(AgencyMixin, AgencyFormView):
    required_action = "registry.manage"

    def get_agency(self) -> Agency:
        return self.agency


class AgencyStatusView(AgencyMixin, View):
    """POST: suspend (reason required) or reactivate. Refusals come back as a message."""

    required_action = "registry.manage"
    http_method_names = ["post"]

    def post(self, request, pk, action):
        try:
            if action == "suspend":
                services.agency_suspend(actor=request.user, agency=self.agency, reason=request.POST.get("reason", ""))
                messages.success(request, f"已暂停委托“{self.agency.name}”。")
            else:
                services.agency_reactivate(
                    actor=request.user, agency=self.agency, comment=request.POST.get("comment", "")
                )
                messages.success(request, f"已恢复委托“{self.agency.name}”。")
        except ValidationError as exc:
            messages.error(request, "操作未成功：" + _errors(exc))
        return redirect("agencies:agency_detail", pk=pk)


# --- experts ---------------------------------------------------------------------------------------


class ExpertListView(ActionRequiredMixin, TemplateView):
    required_action = "registry.view"
    page_size = 50

    def get_template_names(self):
        return [htmx_template(self.request, "agencies/expert_list.html", "agencies/partials/expert_table.html")]

    def get_context_data(self, **kwargs):
        user = self.request.user
        form = ExpertFilterForm(self.request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        page = Paginator(selectors.expert_list(user=user, **filters), self.page_size).get_page(
            self.request.GET.get("page")
        )
        return super().get_context_data(
            form=form,
            page=page,
            query=_query(self.request),
            may_manage=permissions.has_action(user, "registry.manage"),
            may_view_appraisals=permissions.has_action(user, "appraisal.view"),
            **kwargs,
        )


class ExpertMixin(ActionRequiredMixin):
    required_action = "registry.view"

    @cached_property
    def expert(self) -> Expert:
        return get_object_or_404(
            selectors.expert_list(user=self.request.user, action=self.required_action), pk=self.kwargs["pk"]
        )


class ExpertDetailView(ExpertMixin, TemplateView):
    template_name = "agencies/expert_detail.html"

    def get_context_data(self, **kwargs):
        user, expert = self.request.user, self.expert
        may_manage = permissions.can(user, "registry.manage", expert)
        key_jobs = (
            KeyEvaluation.objects.restrict(user, "evaluation.view")
            .filter(expert_assignments__expert=expert)
            .select_related("plan__fiscal_year", "fund", "department")
            .order_by("-plan__fiscal_year", "pk")
        )
        assessments = []
        if expert.user_id:
            assessments = (
                ExAnteAssessment.objects.restrict(user, "assessment.view")
                .filter(expert_opinions__expert_id=expert.user_id)
                .select_related("fund__department")
                .order_by("-created_at", "-pk")
            )
        key_jobs = list(key_jobs)
        for job in key_jobs:
            job.url = selectors.key_evaluation_url(job.pk)
        return super().get_context_data(
            expert=expert,
            may_manage=may_manage,
            ties=selectors.ties_of(expert=expert),
            key_jobs=key_jobs,
            assessments=assessments,
            tie_form=kwargs.pop("tie_form", None) or (TieForm(user=user) if may_manage else None),
            reason_form=ReasonForm(),
            **kwargs,
        )


class ExpertFormView(ActionRequiredMixin, TemplateView):
    required_action = "registry.manage"
    template_name = "agencies/expert_form.html"

    def get_expert(self) -> Expert | None:
        return None

    def get_context_data(self, **kwargs):
        expert = self.get_expert()
        if "form" not in kwargs:
            initial = {f: getattr(expert, f) for f in services.EXPERT_FIELDS} if expert else {}
            kwargs["form"] = ExpertForm(initial=initial, user=self.request.user, expert=expert)
        return super().get_context_data(expert=expert, **kwargs)

    def post(self, request, *args, **kwargs):
        expert = self.get_expert()
        form = ExpertForm(request.POST, user=request.user, expert=expert)
        if form.is_valid():
            try:
                if expert is None:
                    expert = services.expert_create(actor=request.user, **form.service_data())
                    messages.success(request, f"已登记专家“{expert.name}”。")
                else:
                    services.expert_update(actor=request.user, expert=expert, **form.service_data())
                    messages.success(request, "已保存专家信息。")
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect("agencies:expert_detail", pk=expert.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ExpertCreateView(ExpertFormView):
    pass


class ExpertEditView(ExpertMixin, ExpertFormView):
    required_action = "registry.manage"

    def get_expert(self) -> Expert:
        return self.expert


class ExpertStatusView(ExpertMixin, View):
    required_action = "registry.manage"
    http_method_names = ["post"]

    def post(self, request, pk, action):
        try:
            if action == "suspend":
                services.expert_suspend(actor=request.user, expert=self.expert, reason=request.POST.get("reason", ""))
                messages.success(request, f"已暂停专家“{self.expert.name}”。")
            else:
                services.expert_reactivate(
                    actor=request.user, expert=self.expert, comment=request.POST.get("comment", "")
                )
                messages.success(request, f"已恢复专家“{self.expert.name}”。")
        except ValidationError as exc:
            messages.error(request, "操作未成功：" + _errors(exc))
        return redirect("agencies:expert_detail", pk=pk)


# --- ties ------------------------------------------------------------------------------------------


class AgencyTieAddView(AgencyDetailView):
    required_action = "registry.manage"
    http_method_names = ["post"]

    def post(self, request, pk):
        form = TieForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                services.tie_add(actor=request.user, agency=self.agency, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "已登记利益关联。")
                return redirect("agencies:agency_detail", pk=pk)
        return self.render_to_response(self.get_context_data(tie_form=form), status=400)


class ExpertTieAddView(ExpertDetailView):
    required_action = "registry.manage"
    http_method_names = ["post"]

    def post(self, request, pk):
        form = TieForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                services.tie_add(actor=request.user, expert=self.expert, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "已登记利益关联。")
                return redirect("agencies:expert_detail", pk=pk)
        return self.render_to_response(self.get_context_data(tie_form=form), status=400)


class TieRemoveView(ActionRequiredMixin, View):
    required_action = "registry.manage"
    http_method_names = ["post"]

    def post(self, request, pk):
        tie = get_object_or_404(selectors.visible_ties(request.user, "registry.manage"), pk=pk)
        target = (
            reverse("agencies:agency_detail", args=[tie.agency_id])
            if tie.agency_id
            else reverse("agencies:expert_detail", args=[tie.expert_id])
        )
        try:
            services.tie_remove(actor=request.user, tie=tie)
            messages.success(request, "已删除利益关联。")
        except ValidationError as exc:
            messages.error(request, "操作未成功：" + _errors(exc))
        return redirect(target)


# --- assignment ------------------------------------------------------------------------------------


class JobMixin(ActionRequiredMixin):
    """One job (key evaluation or ex-ante assessment) of the kind ``job_kind`` given in the URLconf,
    read through ``restrict`` with the kind's assigning action (out of scope: 404)."""

    job_kind: jobs.JobKind = jobs.KEY_EVALUATION
    job_action = ""  # defaults to the kind's assigning action

    def dispatch(self, request, *args, **kwargs):
        self.required_action = self.job_action or self.job_kind.assign_action
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def job(self):
        return get_object_or_404(self.job_kind.queryset(self.request.user, self.required_action), pk=self.kwargs["pk"])

    def job_url(self):
        return self.job_kind.detail_url(self.job.pk)


class AssignView(JobMixin, TemplateView):
    """The assignment page of one job: candidates with their conflict reasons, current assignees."""

    template_name = "agencies/assign.html"

    def get_template_names(self):
        return [htmx_template(self.request, self.template_name, "agencies/partials/expert_candidates.html")]

    def get_context_data(self, **kwargs):
        q = self.request.GET.get("q", "").strip()
        job, kind = self.job, self.job_kind
        experts = kind.experts(job)
        department = kind.department(job)
        agencies, candidates = selectors.assignment_candidates(
            user=self.request.user,
            department=department,
            q=q,
            assigned_agency_id=job.agency_id,
            assigned_expert_ids=[e["id"] for e in experts if e["id"]],
        )
        return super().get_context_data(
            job=job,
            kind=kind.code,
            department=department,
            current={"agency": job.agency, "experts": experts},
            withdraw_url=kind.url("unassign", job.pk),
            agencies=agencies,
            experts=candidates,
            q=q,
            closed=kind.closed_message(job),
            job_url=self.job_url(),
            **kwargs,
        )

    def post(self, request, pk):
        form = AssignForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                self.job_kind.assign(
                    actor=request.user,
                    job=self.job,
                    agency=form.cleaned_data["agency"],
                    experts=list(form.cleaned_data["experts"]),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "已完成委托/指派。被委托的机构人员和专家现在可以查看该项目。")
                return redirect(request.path)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class UnassignView(JobMixin, View):
    """POST: withdraw the agency (``agency=1``) and/or experts (``expert`` ids)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        expert_ids = [int(i) for i in request.POST.getlist("expert") if i.isdecimal()]
        experts = list(Expert.objects.restrict(request.user, "registry.view").filter(pk__in=expert_ids))
        try:
            self.job_kind.withdraw(
                actor=request.user, job=self.job, agency=request.POST.get("agency") == "1", experts=experts
            )
            messages.success(request, "已撤销委托/指派，相关人员不再能查看该项目。")
        except ValidationError as exc:
            messages.error(request, "操作未成功：" + _errors(exc))
        return redirect(self.job_kind.url("assign", pk))


# --- what the signed-in agency staff member or expert is assigned to --------------------------------


class MyAssignmentsView(LoginRequiredMixin, TemplateView):
    template_name = "agencies/my_assignments.html"

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and not (
            selectors.object_only(user, "evaluation.view") or selectors.object_only(user, "assessment.view")
        ):
            raise PermissionDenied("“我的评价任务”供第三方机构人员和评审专家使用；您可在评价或评估列表中查看业务。")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        user = self.request.user
        key_jobs = list(selectors.my_key_evaluations(user))
        for job in key_jobs:
            job.url = selectors.key_evaluation_url(job.pk)
        return super().get_context_data(key_jobs=key_jobs, assessments=list(selectors.my_assessments(user)), **kwargs)


# --- appraisals ------------------------------------------------------------------------------------


class AppraisalListView(ActionRequiredMixin, TemplateView):
    required_action = "appraisal.view"
    template_name = "agencies/appraisal_list.html"
    page_size = 50

    def get_context_data(self, **kwargs):
        page = Paginator(selectors.appraisal_list(user=self.request.user), self.page_size).get_page(
            self.request.GET.get("page")
        )
        return super().get_context_data(page=page, query=_query(self.request), **kwargs)


class AppraisalDetailView(ActionRequiredMixin, TemplateView):
    required_action = "appraisal.view"
    template_name = "agencies/appraisal_detail.html"

    def get_context_data(self, **kwargs):
        appraisal = get_object_or_404(selectors.appraisal_detail_queryset(self.request.user), pk=self.kwargs["pk"])
        job_url = None
        for kind in jobs.JOB_KINDS:
            if getattr(appraisal, f"{kind.code}_id"):
                job_url = kind.detail_url(getattr(appraisal, f"{kind.code}_id"))
        return super().get_context_data(appraisal=appraisal, job_url=job_url, **kwargs)


class AppraiseView(JobMixin, TemplateView):
    """The appraisal form of one completed job, for the agency it was entrusted to."""

    job_action = "appraisal.manage"
    template_name = "agencies/appraisal_form.html"

    def get_context_data(self, **kwargs):
        problem = services.appraisal_problem(self.job)
        return super().get_context_data(
            job=self.job,
            agency=self.job.agency,
            problem=problem,
            form=kwargs.pop("form", None) or (AppraisalForm() if not problem else None),
            job_url=self.job_url(),
            **kwargs,
        )

    def post(self, request, pk):
        form = AppraisalForm(request.POST)
        if form.is_valid() and self.job.agency_id is not None:
            try:
                appraisal = services.appraisal_record(
                    actor=request.user, agency=self.job.agency, **{self.job_kind.code: self.job}, **form.service_data()
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"已完成对“{appraisal.agency.name}”的质量考评，总分 {appraisal.total} 分。")
                return redirect("agencies:agency_detail", pk=appraisal.agency_id)
        elif self.job.agency_id is None:
            form.add_error(None, services.appraisal_problem(self.job))
        return self.render_to_response(self.get_context_data(form=form), status=400)
