"""Pages of the annual assessment (考核): the list, a new sheet, the sheet (items, 计算初稿, ranking,
publish/withdraw), one body's breakdown with its adjustments, the printable 通报 and the Excel.

Thin: reads from ``selectors_assessment``; writes through the engine (``services_assessment``) and
the review service (``services_assessment_review``). A sheet outside the reader's view is a 404;
a managing action by a role that may not manage is a 403."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import TemplateView

from apps.core import audit, permissions, years
from apps.core.excel import content_disposition
from apps.core.models import AuditEvent
from apps.core.params import int_param
from apps.core.views_mixins import ActionRequiredMixin, add_service_errors
from apps.orgs.models import FiscalYear

from . import excel_assessment
from . import selectors_assessment as selectors
from . import services_assessment as engine
from . import services_assessment_review as review
from .forms_assessment import AssessmentCreateForm, ItemForm, LineAdjustForm, PublishForm, WithdrawForm
from .models import AnnualAssessment, AssessmentItem, Metric

S = AnnualAssessment.Status
EDITABLE = (S.DRAFT, S.REVIEW)
MANAGE_DENIED = "只有组织考核的财政部门可以进行该操作。"


def focus_first_error(form) -> None:
    """``autofocus`` on the first field with an error (or the first field when the error is the
    form's own), so a refused form far down the page opens with it in view."""
    if not form.errors or not form.fields:
        return
    name = next((n for n in form.fields if n in form.errors), next(iter(form.fields)))
    form.fields[name].widget.attrs["autofocus"] = True


class AssessmentListView(ActionRequiredMixin, TemplateView):
    required_action = "annual.view"
    template_name = "supervision/assessment_list.html"

    def get_context_data(self, **kwargs):
        year = int_param(self.request.GET.get("year"), low=1900, high=9999)  # bad input: every year
        user = self.request.user
        return super().get_context_data(
            rows=selectors.assessment_list(user=user, year=year),
            years=FiscalYear.objects.order_by("-year").values_list("year", flat=True),
            year=year,
            may_create=permissions.has_action(user, "annual.manage"),
            **kwargs,
        )


class AssessmentCreateView(ActionRequiredMixin, TemplateView):
    required_action = "annual.manage"
    template_name = "supervision/assessment_form.html"

    def get_context_data(self, **kwargs):
        # The year chosen in the header (as on the other create forms), not simply the newest one.
        kwargs.setdefault("form", AssessmentCreateForm(initial={"fiscal_year": years.selected_year(self.request)}))
        return super().get_context_data(**kwargs)

    def post(self, request):
        form = AssessmentCreateForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                sheet = engine.assessment_create(
                    actor=request.user, fiscal_year=data["fiscal_year"], kind=data["kind"], title=data["title"]
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "已新建考核，并按默认考核项目生成评分表。")
                return redirect("supervision:assessment_detail", pk=sheet.pk)
        return self.render_to_response(self.get_context_data(form=form))


class SheetMixin(ActionRequiredMixin):
    """The sheet of the URL: 404 when not visible; ``manage_only`` pages answer 403 to readers."""

    manage_only = False

    def sheet(self) -> AnnualAssessment:
        if not hasattr(self, "_sheet"):
            self._sheet = selectors.assessment_get(user=self.request.user, pk=self.kwargs["pk"])
            self.may_manage = selectors.may_manage(self.request.user, self._sheet)
            if self.manage_only and not self.may_manage:
                raise PermissionDenied(MANAGE_DENIED)
        return self._sheet


class AssessmentDetailView(SheetMixin, TemplateView):
    required_action = "annual.view"
    template_name = "supervision/assessment_detail.html"

    def get_context_data(self, **kwargs):
        sheet = self.sheet()
        user = self.request.user
        ctx = {
            "sheet": sheet,
            "may_manage": self.may_manage,
            "ranking": list(selectors.ranking(sheet)),
            "breakdowns": selectors.breakdown_ids(user, sheet),
        }
        if self.may_manage:
            ctx |= {
                "items": selectors.items_of(sheet),
                "editable": sheet.status in EDITABLE,
                "unscored": list(review.unscored_manual_lines(sheet)[:20]) if sheet.status == S.REVIEW else [],
                "publish_form": kwargs.pop("publish_form", None) or PublishForm(initial={"notice": sheet.notice}),
                "withdraw_form": kwargs.pop("withdraw_form", None) or WithdrawForm(),
                "history": AuditEvent.objects.for_object(sheet)
                .select_related("actor")
                .order_by("-occurred_at", "-pk")[:20],
            }
        return super().get_context_data(**ctx, **kwargs)


class AssessmentComputeView(SheetMixin, View):
    required_action = "annual.manage"
    manage_only = True

    def post(self, request, pk):
        sheet = self.sheet()
        try:
            job = review.compute_start(actor=request.user, assessment=sheet)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
            return redirect("supervision:assessment_detail", pk=sheet.pk)
        return redirect("jobs:job_detail", pk=job.pk)


class AssessmentPublishView(AssessmentDetailView):
    required_action = "annual.manage"
    manage_only = True

    def get(self, request, pk):
        return redirect("supervision:assessment_detail", pk=pk)

    def post(self, request, pk):
        sheet = self.sheet()
        form = PublishForm(request.POST)
        if form.is_valid():
            # Every reason at once (an empty 通报说明 and the unscored hand-scored lines), not one per try.
            problems = selectors.publish_problems(sheet, form.cleaned_data["notice"])
            try:
                if problems:
                    raise ValidationError(problems)
                review.assessment_publish(actor=request.user, assessment=sheet, notice=form.cleaned_data["notice"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "已发布考核通报，被考核单位可查看排名及本单位得分明细。")
                return redirect("supervision:assessment_detail", pk=sheet.pk)
        focus_first_error(form)
        return self.render_to_response(self.get_context_data(publish_form=form))


class AssessmentWithdrawView(AssessmentDetailView):
    required_action = "annual.manage"
    manage_only = True

    def get(self, request, pk):
        return redirect("supervision:assessment_detail", pk=pk)

    def post(self, request, pk):
        sheet = self.sheet()
        form = WithdrawForm(request.POST)
        if form.is_valid():
            try:
                review.assessment_withdraw(actor=request.user, assessment=sheet, reason=form.cleaned_data["reason"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "已撤回通报，考核回到待审定，可修改后重新发布。")
                return redirect("supervision:assessment_detail", pk=sheet.pk)
        focus_first_error(form)
        return self.render_to_response(self.get_context_data(withdraw_form=form))


class ItemFormView(SheetMixin, TemplateView):
    """Add or edit an item (while 草稿/待审定)."""

    required_action = "annual.manage"
    manage_only = True
    template_name = "supervision/assessment_item_form.html"

    def item(self) -> AssessmentItem | None:
        if "item_pk" not in self.kwargs:
            return None
        return get_object_or_404(AssessmentItem, assessment=self.sheet(), pk=self.kwargs["item_pk"])

    def initial(self, item):
        if item is None:  # no metric preselected: the user chooses (“请选择”)
            return {"sort_order": len(selectors.items_of(self.sheet())) + 1}
        params = item.params if isinstance(item.params, dict) else {}
        return {
            "sort_order": item.sort_order,
            "name": item.name,
            "metric": item.metric,
            "max_points": item.max_points,
            "tolerance": params.get("tolerance", ""),
            "deduct_per_point": params.get("deduct_per_point", ""),
            "guidance": item.guidance,
        }

    def get_context_data(self, **kwargs):
        sheet, item = self.sheet(), self.item()
        kwargs.setdefault("form", ItemForm(initial=self.initial(item)))
        return super().get_context_data(sheet=sheet, item=item, score_gap_label=Metric.SCORE_GAP.label, **kwargs)

    def post(self, request, pk, item_pk=None):
        sheet, item = self.sheet(), self.item()
        form = ItemForm(request.POST)
        if form.is_valid():
            try:
                engine.item_save(actor=request.user, assessment=sheet, data=form.service_data(), item=item)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "已保存考核项目。")
                return redirect("supervision:assessment_detail", pk=sheet.pk)
        focus_first_error(form)
        return self.render_to_response(self.get_context_data(form=form))


class ItemDeleteView(SheetMixin, View):
    required_action = "annual.manage"
    manage_only = True

    def post(self, request, pk, item_pk):
        sheet = self.sheet()
        item = get_object_or_404(AssessmentItem, assessment=sheet, pk=item_pk)
        try:
            engine.item_delete(actor=request.user, assessment=sheet, item=item)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, f"已删除考核项目“{item.name}”。")
        return redirect("supervision:assessment_detail", pk=sheet.pk)


class BodyView(ActionRequiredMixin, TemplateView):
    """One body's breakdown: the lines, the data behind each, adjustments; finance adjusts here."""

    required_action = "annual.breakdown"
    template_name = "supervision/assessment_body.html"

    def body(self):
        if not hasattr(self, "_body"):
            self._body = selectors.body_get(
                user=self.request.user, assessment_pk=self.kwargs["pk"], pk=self.kwargs["body_pk"]
            )
        return self._body

    def get_context_data(self, **kwargs):
        body = self.body()
        sheet = body.assessment
        may_manage = selectors.may_manage(self.request.user, sheet)
        may_adjust = may_manage and sheet.status == S.REVIEW
        bound = kwargs.pop("bound", None)  # (line pk, form) after a refused adjustment
        lines = selectors.lines_of(body)
        for line in lines:
            line.manual = line.item.metric == Metric.MANUAL
            line.records = selectors.basis_records(line)
            line.summary = line.basis.get("summary", "") if isinstance(line.basis, dict) else ""
            if may_adjust:
                if bound and bound[0] == line.pk:
                    line.form = bound[1]
                else:
                    line.form = LineAdjustForm(
                        prefix=f"l{line.pk}",
                        manual=line.manual,
                        initial={"points": line.points, "reason": "", "evidence": line.evidence},
                    )
        return super().get_context_data(
            body=body,
            sheet=sheet,
            lines=lines,
            may_manage=may_manage,
            may_adjust=may_adjust,
            max_total=sum(line.item.max_points for line in lines),
            **kwargs,
        )

    def post(self, request, pk, body_pk):
        body = self.body()
        if not selectors.may_manage(request.user, body.assessment):
            raise PermissionDenied(MANAGE_DENIED)
        line_pk = int_param(request.POST.get("line"))
        if line_pk is None:
            raise Http404("未找到该考核项目的得分。")
        line = get_object_or_404(body.lines.select_related("item"), pk=line_pk)
        form = LineAdjustForm(request.POST, prefix=f"l{line.pk}", manual=line.item.metric == Metric.MANUAL)
        if form.is_valid():
            data = form.cleaned_data
            try:
                review.line_adjust(
                    actor=request.user,
                    line=line,
                    points=data["points"],
                    reason=data["reason"],
                    evidence=data.get("evidence", ""),
                )
            except ValidationError as exc:
                if set(getattr(exc, "error_dict", {})) == {"status"}:  # no longer under review: no form to show
                    messages.error(request, "；".join(exc.messages))
                    return redirect(request.path)
                add_service_errors(form, exc)
            else:
                messages.success(request, f"已调整“{line.item.name}”的得分。")
                return redirect(f"{request.path}#line-{line.pk}")
        # The line may be far down the page: focus its first bad field (the browser scrolls to it)
        # and name it in an alert at the top with a link to the line.
        focus_first_error(form)
        failed = [message for messages_ in form.errors.values() for message in messages_]
        return self.render_to_response(
            self.get_context_data(bound=(line.pk, form), failed_line=line, failed_errors=failed)
        )


class NoticeView(SheetMixin, TemplateView):
    """The printable 通报 (``?print=1``: no navigation, print dialog)."""

    required_action = "annual.view"
    template_name = "supervision/assessment_notice.html"

    def get_context_data(self, **kwargs):
        sheet = self.sheet()
        return super().get_context_data(
            sheet=sheet,
            ranking=list(selectors.ranking(sheet)),
            printing=self.request.GET.get("print") == "1",
            may_manage=self.may_manage,
            **kwargs,
        )


class ExportView(SheetMixin, View):
    required_action = "annual.view"

    def get(self, request, pk):
        sheet = self.sheet()
        # A reader gets the ranking and only the breakdowns it may open (a department its own).
        visible = None if self.may_manage else selectors.breakdown_ids(request.user, sheet)
        content = excel_assessment.export_assessment(sheet, body_ids=visible)
        audit.record(
            audit.Kind.EXPORT,
            actor=request.user,
            obj=sheet,
            comment=f"导出考核通报“{sheet.title}”（Excel{'' if visible is None else '；明细限查看范围'}）",
        )
        response = HttpResponse(
            content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = content_disposition(excel_assessment.file_name(sheet))
        return response
