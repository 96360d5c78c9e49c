"""Pages of 整改: the list (filters, counts, 逾期 per department, Excel), one item (source, evidence,
history, the unit's form, finance's verification) and the pages that raise items from a
self-evaluation, a key evaluation, a key-monitoring measure or by hand. Thin: reads from
``selectors_rectification``, every write through ``services_rectification``."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import TemplateView

from apps.core import audit, permissions, years
from apps.core.excel import content_disposition
from apps.core.models import AuditEvent
from apps.core.views_mixins import ActionRequiredMixin, add_service_errors
from apps.evaluations.models import KeyEvaluation, SelfEvaluation
from apps.monitoring.models import KeyMonitoring

from . import excel_rectification
from . import selectors_rectification as selectors
from . import services_rectification as services
from .forms_rectification import (
    ManualRectificationForm,
    RaiseFromKeyEvaluationForm,
    RaiseFromKeyMonitoringForm,
    RaiseFromSelfEvaluationForm,
    RectificationFillForm,
    RectificationFilterForm,
    VerifyForm,
)
from .models import Rectification

PAGE_SIZE = 50
S = Rectification.Status


def _filters(request) -> tuple[RectificationFilterForm, dict]:
    form = RectificationFilterForm(request.GET or None, user=request.user, fiscal_years=years.fiscal_years(request))
    form.is_valid()  # an invalid filter is ignored, the valid ones apply
    data = getattr(form, "cleaned_data", {})
    return form, {
        "fiscal_year": data.get("year"),
        "status": data.get("status", ""),
        "department": data.get("department"),
        "source": data.get("source", ""),
        "q": data.get("q", ""),
    }


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


class RectificationListView(ActionRequiredMixin, TemplateView):
    required_action = "rectification.view"
    template_name = "results/rectification_list.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        form, filters = _filters(self.request)
        rows = selectors.rectification_list(user=user, **filters)
        # Counts and the department table follow every filter except the status one.
        unfiltered_status = selectors.rectification_list(user=user, **{**filters, "status": ""})
        return super().get_context_data(
            form=form,
            page=Paginator(rows, PAGE_SIZE).get_page(self.request.GET.get("page")),
            counts=selectors.status_counts(unfiltered_status),
            by_department=selectors.overdue_by_department(unfiltered_status),
            may_create=permissions.has_action(user, "rectification.create"),
            query=_query_without_page(self.request),
            today=timezone.localdate(),
            **kwargs,
        )


def _export_comment(user, form: RectificationFilterForm, filters: dict) -> str:
    """What was exported: the reader's scope and the filters that applied (or 全部)."""
    labels = []
    if filters["fiscal_year"]:
        labels.append(f"年度：{filters['fiscal_year']}年度")
    for name in ("status", "source"):
        if filters[name]:
            choices = dict(form.fields[name].choices)
            labels.append(f"{form.fields[name].label}：{choices.get(filters[name], filters[name])}")
    if filters["department"] is not None:
        labels.append(f"部门：{filters['department'].name}")
    if filters["q"]:
        labels.append(f"项目：{filters['q']}")
    scope = user.organization.name if user.organization_id else "全部"
    return f"导出整改事项清单（Excel；范围：{scope}；筛选：{'，'.join(labels) or '全部'}）"


class RectificationExportView(ActionRequiredMixin, View):
    """The filtered list as an Excel workbook (streamed, write-only)."""

    required_action = "rectification.view"

    def get(self, request):
        _form, filters = _filters(request)
        rows = selectors.rectification_list(user=request.user, **filters)
        content = excel_rectification.export_list(rows)
        audit.record(audit.Kind.EXPORT, actor=request.user, comment=_export_comment(request.user, _form, filters))
        response = HttpResponse(
            content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        name = excel_rectification.file_name()
        response["Content-Disposition"] = content_disposition(name)
        return response


def _status_label(code) -> str:
    return dict(S.choices).get(code, code or "")


def history_rows(item: Rectification) -> list[tuple[AuditEvent, str, str]]:
    rows = []
    for event in services.history(item):
        status = event.changes.get("status") if isinstance(event.changes, dict) else None
        if isinstance(status, dict) and status.get("from"):
            rows.append((event, _status_label(status.get("from")), _status_label(status.get("to"))))
        else:
            rows.append((event, "", ""))
    return rows


class ItemMixin(ActionRequiredMixin):
    required_action = "rectification.view"

    @cached_property
    def item(self) -> Rectification:
        return get_object_or_404(
            selectors.rectification_detail(self.request.user, self.kwargs["pk"]), pk=self.kwargs["pk"]
        )


class RectificationDetailView(ItemMixin, TemplateView):
    template_name = "results/rectification_detail.html"

    def get_context_data(self, **kwargs):
        user, item = self.request.user, self.item
        may_fill = item.status in (S.PENDING, S.IN_PROGRESS) and permissions.can(user, "rectification.fill", item)
        may_verify = item.status == S.VERIFYING and permissions.can(user, "rectification.verify", item)
        return super().get_context_data(
            item=item,
            steps=services.available_steps(item, user),
            may_fill=may_fill,
            may_verify=may_verify,
            fill_form=kwargs.pop("fill_form", None)
            or RectificationFillForm(initial={"measures": item.measures, "progress_note": item.progress_note}),
            verify_form=kwargs.pop("verify_form", None) or VerifyForm(),
            history=history_rows(item),
            **kwargs,
        )


class RectificationSaveView(RectificationDetailView):
    """The unit saves measures and progress (the first save starts the rectification)."""

    required_action = "rectification.fill"
    http_method_names = ["post"]

    def post(self, request, pk):
        form = RectificationFillForm(request.POST)
        if form.is_valid():
            try:
                services.rectification_save(actor=request.user, item=self.item, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "整改情况已保存。")
                return redirect("results:rectification_detail", pk=pk)
        return self.render_to_response(self.get_context_data(fill_form=form), status=400)


STEPS = {
    "submit": ("rectification.fill", "已报送财政核实。"),
    "accept": ("rectification.verify", "已核实通过，整改完成。"),
    "reopen": ("rectification.verify", "已退回重新整改。"),
}


class RectificationStepView(RectificationDetailView):
    """报送核实 (unit), 核实通过 / 重新整改 (finance)."""

    http_method_names = ["post"]

    def dispatch(self, request, *args, **kwargs):
        step = STEPS.get(kwargs.get("step"))
        self.required_action = step[0] if step else "rectification.view"
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, pk, step):
        if step not in STEPS:
            messages.error(request, f"未知的操作“{step}”。")
            return redirect("results:rectification_detail", pk=pk)
        form = VerifyForm(request.POST)
        form.is_valid()
        comment = form.cleaned_data.get("comment", "")
        try:
            if step == "submit":
                services.rectification_submit(actor=request.user, item=self.item, comment=comment)
            elif step == "accept":
                services.rectification_accept(actor=request.user, item=self.item, comment=comment)
            else:
                if "deadline" in form.errors:
                    raise ValidationError({"deadline": form.errors["deadline"]})
                services.rectification_reopen(
                    actor=request.user, item=self.item, comment=comment, deadline=form.cleaned_data.get("deadline")
                )
        except ValidationError as exc:
            if step == "submit":
                messages.error(request, "不能报送核实：" + "".join(exc.messages))
                return redirect("results:rectification_detail", pk=pk)
            form = VerifyForm(request.POST)
            form.is_valid()
            add_service_errors(form, exc)
            return self.render_to_response(self.get_context_data(verify_form=form), status=400)
        messages.success(request, STEPS[step][1])
        return redirect("results:rectification_detail", pk=pk)


# --- raising items ------------------------------------------------------------------------------------


class RaiseMixin(ActionRequiredMixin, TemplateView):
    """The raise pages share one post flow: a valid form goes to the service (``create``); its
    ``ValidationError`` goes back on the form (400); success says what was done and redirects."""

    required_action = "rectification.create"
    form_class: type
    # The record the items are raised from (read with its own view action: 404 outside scope).
    record_model: type | None = None
    record_action = ""
    record_related: tuple[str, ...] = ()

    @cached_property
    def record(self):
        rows = self.record_model.objects.restrict(self.request.user, self.record_action)
        return get_object_or_404(rows.select_related(*self.record_related), pk=self.kwargs["pk"])

    def make_form(self, data=None):
        return self.form_class(data)

    def get_context_data(self, **kwargs):
        return super().get_context_data(form=kwargs.pop("form", None) or self.initial_form(), **kwargs)

    def initial_form(self):
        return self.make_form()

    def create(self, form):
        """Call the service with the valid ``form``; returns what ``success`` reports."""
        raise NotImplementedError

    def success(self, result) -> tuple[str, str]:
        """(message, redirect URL) once ``create`` succeeded."""
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        form = self.make_form(request.POST)
        if form.is_valid():
            try:
                result = self.create(form)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                message, url = self.success(result)
                messages.success(request, message)
                return redirect(url)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class RaiseFromSelfEvaluationView(RaiseMixin):
    template_name = "results/rectification_create_self.html"
    form_class = RaiseFromSelfEvaluationForm
    record_model, record_action = SelfEvaluation, "selfeval.view"
    record_related = ("fund__department", "organization", "round")

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            record=self.record, shortfalls=services.self_evaluation_shortfalls(self.record), **kwargs
        )

    def create(self, form):
        return services.rectifications_from_self_evaluation(
            actor=self.request.user, evaluation=self.record, **form.cleaned_data
        )

    def success(self, made):
        message = f"已下达整改 {len(made)} 项。" if made else "没有新的问题需要下达整改。"
        return message, reverse("evaluations:self_detail", args=[self.record.pk])


class RaiseFromKeyEvaluationView(RaiseMixin):
    template_name = "results/rectification_create_key.html"
    form_class = RaiseFromKeyEvaluationForm
    record_model, record_action = KeyEvaluation, "evaluation.view"
    record_related = ("fund__organization", "department", "plan")

    def initial_form(self):
        return self.form_class(initial={"problems": "\n".join(services.split_findings(self.record.findings))})

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            record=self.record, raised=list(selectors.for_record(self.request.user, self.record)), **kwargs
        )

    def create(self, form):
        return services.rectifications_from_key_evaluation(
            actor=self.request.user,
            evaluation=self.record,
            problems=form.problem_list(),
            deadline=form.cleaned_data["deadline"],
            requirement=form.cleaned_data["requirement"],
        )

    def success(self, made):
        message = f"已下达整改 {len(made)} 项。" if made else "这些问题已下达过整改。"
        return message, reverse("evaluations:key_detail", args=[self.record.pk])


class RaiseFromKeyMonitoringView(RaiseMixin):
    template_name = "results/rectification_create_monitoring.html"
    form_class = RaiseFromKeyMonitoringForm
    record_model, record_action = KeyMonitoring, "monitoring.key"
    record_related = ("fund__organization", "fund__department")

    def initial_form(self):
        return self.form_class(initial={"problem": services.key_monitoring_problem(self.record)})

    def get_context_data(self, **kwargs):
        raised = selectors.visible(self.request.user).filter(key_monitoring=self.record).order_by("id")
        return super().get_context_data(record=self.record, raised=list(raised), **kwargs)

    def create(self, form):
        return services.rectification_from_key_monitoring(actor=self.request.user, key=self.record, **form.cleaned_data)

    def success(self, item):
        return "已下达整改。", reverse("results:rectification_detail", args=[item.pk])


class RaiseManualView(RaiseMixin):
    """审计发现 and other problems raised by hand."""

    template_name = "results/rectification_create_manual.html"

    def make_form(self, data=None):
        initial = {"fund_code": self.request.GET.get("fund", ""), "organization": self.request.GET.get("organization")}
        return ManualRectificationForm(
            data, initial=initial, user=self.request.user, fiscal_year=years.selected_year(self.request)
        )

    def create(self, form):
        data = form.cleaned_data
        return services.rectification_create(
            actor=self.request.user,
            source=data["source"],
            source_reference=data["source_reference"],
            organization=data["organization"],
            fund=data["fund_code"],
            fiscal_year=years.selected_year(self.request),
            problem=data["problem"],
            requirement=data["requirement"],
            deadline=data["deadline"],
        )

    def success(self, item):
        return "已下达整改。", reverse("results:rectification_detail", args=[item.pk])
