from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import TemplateView

from apps.core import permissions, years
from apps.core.views_mixins import ActionRequiredMixin, htmx_template
from apps.funds.models import SpecialFund
from apps.indicators.framework import LEVEL2_PARENT, Comparison, Level1, Level2
from apps.indicators.models import LibraryIndicator
from apps.orgs.models import FiscalYear

from . import excel, quality, selectors, services
from .diff import compare_versions
from .forms import AdjustForm, QueueFilterForm, ReturnForm, TargetFilterForm, TargetHeaderForm
from .models import PerformanceTarget, TargetStatus
from .rows import rows_from_post

ACTIONS = {
    "send": services.target_send,
    "submit": services.target_submit,
    "pass": services.target_pass,
    "approve": services.target_approve,
}


def _errors(exc: ValidationError) -> str:
    return "；".join(exc.messages)


class TargetListView(ActionRequiredMixin, TemplateView):
    """All targets the user may see in the selected year (units: their own; finance: the region)."""

    required_action = "target.view"
    page_size = 50

    def get_template_names(self):
        return [htmx_template(self.request, "targets/target_list.html", "targets/partials/target_table.html")]

    def get_context_data(self, **kwargs):
        user = self.request.user
        form = TargetFilterForm(self.request.GET or None)
        data = form.cleaned_data if form.is_valid() else {}
        targets = selectors.target_queryset(user).filter(fiscal_year=years.selected_year(self.request))
        if data.get("status"):
            targets = targets.filter(status=data["status"])
        if data.get("q"):
            targets = targets.filter(Q(fund__name__icontains=data["q"]) | Q(fund__code__icontains=data["q"]))
        page = Paginator(targets.order_by("organization__path", "fund__code", "-version"), self.page_size).get_page(
            self.request.GET.get("page")
        )
        query = self.request.GET.copy()
        query.pop("page", None)
        may_start_dept = permissions.has_action(user, "target.edit") and user.organization.department is not None
        return super().get_context_data(form=form, page=page, query=query.urlencode(), may_start_dept=may_start_dept,
                                        **kwargs)  # fmt: skip


class TargetMixin(ActionRequiredMixin):
    required_action = "target.view"

    @cached_property
    def target(self) -> PerformanceTarget:
        try:
            return selectors.target_detail(self.request.user, self.kwargs["pk"])
        except PerformanceTarget.DoesNotExist:
            raise Http404("绩效目标不存在或不在您的查看范围内。") from None


def _status_label(code: str) -> str:
    return dict(TargetStatus.choices).get(code, code)


def _issues_for(target: PerformanceTarget) -> list[quality.Issue]:
    return selectors.quality_for([target])[target.pk]


class TargetDetailView(TargetMixin, TemplateView):
    template_name = "targets/target_detail.html"

    def get_context_data(self, **kwargs):
        user, target = self.request.user, self.target
        transitions = {t.name for t in services.TARGET_FLOW.available(target, user)}
        may_return = bool(transitions & set(services.RETURN_BY_STATUS.values()))
        return super().get_context_data(
            target=target,
            rows=list(target.indicators.all()),
            issues=_issues_for(target),
            versions=list(selectors.versions_of(target)),
            history=[
                (event, _status_label(event.changes["status"]["from"]), _status_label(event.changes["status"]["to"]))
                for event in services.TARGET_FLOW.history(target)
            ],
            may_edit=target.is_editable and permissions.can(user, "target.edit", target),
            may_send="send" in transitions,
            may_submit="submit" in transitions,
            may_pass="sector_pass" in transitions,
            may_approve="approve" in transitions,
            may_return=may_return,
            may_adjust=target.status == TargetStatus.APPROVED
            and permissions.can(user, "target.adjust", target)
            and not PerformanceTarget.objects.filter(previous=target).exists(),
            return_form=ReturnForm(initial={"resubmit_by": selectors.resubmit_default(target)}) if may_return else None,
            resubmit_latest=selectors.resubmit_latest(target, target.status) if may_return else None,
            adjust_form=AdjustForm(),
            **kwargs,
        )


class TargetStartView(ActionRequiredMixin, View):
    required_action = "target.edit"
    http_method_names = ["post"]

    def post(self, request, fund_pk):
        fund = get_object_or_404(SpecialFund.objects.restrict(request.user, "target.edit"), pk=fund_pk)
        try:
            target = services.target_start(actor=request.user, fund=fund)
        except ValidationError as exc:
            messages.error(request, _errors(exc))
            return redirect(reverse("funds:fund_detail", args=[fund.pk]) + "?tab=target")
        return redirect("targets:target_edit", pk=target.pk)


class DepartmentTargetStartView(ActionRequiredMixin, View):
    required_action = "target.edit"
    http_method_names = ["post"]

    def post(self, request):
        department = request.user.organization.department
        year = FiscalYear.objects.filter(pk=years.selected_year(request)).first()
        if department is None or year is None:
            raise PermissionDenied("只有预算部门可以填报部门整体绩效目标。")
        try:
            target = services.department_target_start(actor=request.user, department=department, fiscal_year=year)
        except ValidationError as exc:
            messages.error(request, _errors(exc))
            return redirect("targets:target_list")
        return redirect("targets:target_edit", pk=target.pk)


def _edit_context(target, *, header, rows, issues, row_errors=(), tasks=None) -> dict:
    return {
        "target": target,
        "header": header,
        "rows": rows,
        "issues": issues,
        "row_errors": row_errors,
        "tasks": tasks if tasks is not None else list(target.tasks.all()),
        "level1_choices": Level1.choices,
        "level2_choices": Level2.choices,
        "level2_parent": LEVEL2_PARENT,
        "comparison_choices": Comparison.choices,
        "last_year": selectors.last_year_values(target),
    }


def _tasks_from_post(post) -> list[dict]:
    names, amounts, descriptions = (post.getlist(f"task-{f}") for f in ("name", "amount", "description"))
    return [
        {"name": n, "amount": a, "description": d}
        for n, a, d in zip(names, amounts, descriptions, strict=False)
        if n.strip() or a.strip()
    ]


class TargetEditView(TargetMixin, View):
    """The 申报表 editor: header texts and indicator rows edited in place; live quality checks."""

    required_action = "target.edit"

    def check_editable(self):
        if not permissions.can(self.request.user, "target.edit", self.target):
            raise Http404("绩效目标不存在或不在您的填报范围内。")
        if not self.target.is_editable:
            raise PermissionDenied(f"绩效目标当前状态为“{self.target.get_status_display()}”，不能修改。")

    def get(self, request, pk):
        self.check_editable()
        target = self.target
        header = TargetHeaderForm(initial={"long_term_goal": target.long_term_goal, "annual_goal": target.annual_goal})
        context = _edit_context(target, header=header, rows=list(target.indicators.all()), issues=_issues_for(target))
        return render(request, "targets/target_edit.html", context)

    def post(self, request, pk):
        self.check_editable()
        target = self.target
        header = TargetHeaderForm(request.POST)
        header.is_valid()
        raw_rows = rows_from_post(request.POST)
        tasks = _tasks_from_post(request.POST) if target.kind == PerformanceTarget.Kind.DEPARTMENT else None
        try:
            services.target_save(
                actor=request.user,
                target=target,
                long_term_goal=header.cleaned_data.get("long_term_goal", ""),
                annual_goal=header.cleaned_data.get("annual_goal", ""),
                rows=raw_rows,
                tasks=tasks,
            )
        except services.RowsInvalid as exc:
            messages.error(request, "保存未成功，数据没有改动：请按红字提示修改指标行。")
            context = _edit_context(target, header=header, rows=raw_rows, issues=[], row_errors=exc.row_errors,
                                    tasks=tasks)  # fmt: skip
            return render(request, "targets/target_edit.html", context, status=400)
        except ValidationError as exc:
            messages.error(request, "保存未成功，数据没有改动：" + _errors(exc))
            context = _edit_context(target, header=header, rows=raw_rows, issues=[], tasks=tasks)
            return render(request, "targets/target_edit.html", context, status=400)
        messages.success(request, "草稿已保存。")
        if request.POST.get("then") == "send":
            return TargetTransitionView.as_view()(request, pk=pk, action="send")
        return redirect("targets:target_edit", pk=target.pk)


class QualityCheckView(TargetMixin, View):
    """htmx: the quality checks of the unsaved form, as a partial (nothing is saved)."""

    required_action = "target.edit"
    http_method_names = ["post"]

    def post(self, request, pk):
        from .rows import clean_rows

        rows, errors = clean_rows(rows_from_post(request.POST))
        issues = quality.check(
            rows=rows,
            annual_goal=request.POST.get("annual_goal", ""),
            last_year=selectors.last_year_by_fund([self.target.fund]).get(self.target.fund_id)
            if self.target.fund_id
            else None,
            core_indicators=selectors.core_indicators_by_sector([self.target.fund.sector]).get(
                self.target.fund.sector, []
            )
            if self.target.fund_id
            else [],
            kind=self.target.kind,
        )
        return render(request, "targets/partials/quality.html", {"issues": issues, "row_errors": errors})


class LibraryPickerView(ActionRequiredMixin, TemplateView):
    """htmx: library search results with an 添加 button per indicator (for the target editor)."""

    required_action = "indicator.view"
    template_name = "targets/partials/library_picker.html"

    def get_context_data(self, **kwargs):
        q = self.request.GET.get("q", "").strip()
        sector = self.request.GET.get("sector", "")
        try:
            from apps.indicators.selectors import library_search

            results = library_search(user=self.request.user, q=q, sector=sector)
        except ImportError:  # the library app's search arrives separately
            results = LibraryIndicator.objects.restrict(self.request.user, "indicator.view").filter(
                status=LibraryIndicator.Status.ACTIVE, name__icontains=q
            )
        last_year = {}
        target_pk = self.request.GET.get("target")
        if target_pk and target_pk.isdecimal():
            target = selectors.target_queryset(self.request.user).filter(pk=target_pk).first()
            last_year = selectors.last_year_values(target) if target else {}
        return super().get_context_data(results=list(results[:20]), q=q, last_year=last_year, **kwargs)


class TargetTransitionView(TargetMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk, action):
        target = self.target
        try:
            if action in ACTIONS:
                ACTIONS[action](actor=request.user, target=target, comment=request.POST.get("comment", ""))
                messages.success(request, "操作成功。")
            elif action == "return":
                comments = {
                    key.removeprefix("indicator-comment-"): value
                    for key, value in request.POST.items()
                    if key.startswith("indicator-comment-") and key.removeprefix("indicator-comment-").isdecimal()
                }
                form = ReturnForm(request.POST)
                if not form.is_valid() and "resubmit_by" in form.errors:
                    raise ValidationError(form.errors["resubmit_by"])
                services.target_return(
                    actor=request.user,
                    target=target,
                    comment=request.POST.get("comment", ""),
                    indicator_comments=comments,
                    resubmit_by=form.cleaned_data.get("resubmit_by"),
                )
                messages.success(request, "已退回，填报单位会看到逐条意见。")
            elif action == "adjust":
                new = services.target_adjust(actor=request.user, target=target, reason=request.POST.get("reason", ""))
                messages.success(request, f"已生成第{new.version}版（调整），请修改后重新报送。")
                return redirect("targets:target_edit", pk=new.pk)
            else:
                raise Http404("未知操作。")
        except ValidationError as exc:
            messages.error(request, "操作未成功：" + _errors(exc))
        return redirect("targets:target_detail", pk=target.pk)


class ReviewQueueView(ActionRequiredMixin, TemplateView):
    """Finance's (and the department approver's) queue: oldest first, quality results inline."""

    required_action = "target.view"
    page_size = 50

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not any(
            permissions.has_action(request.user, a) for a in selectors.REVIEW_STAGES.values()
        ):
            raise PermissionDenied("您的角色不审核绩效目标。")
        return super().dispatch(request, *args, **kwargs)

    def get_template_names(self):
        return [htmx_template(self.request, "targets/review_queue.html", "targets/partials/review_table.html")]

    def get_context_data(self, **kwargs):
        user = self.request.user
        form = QueueFilterForm(self.request.GET or None, user=user)
        data = form.cleaned_data if form.is_valid() else {}
        queue = selectors.review_queue(user=user, fiscal_year=years.selected_year(self.request), **data)
        page = Paginator(queue, self.page_size).get_page(self.request.GET.get("page"))
        issues = selectors.quality_for(page.object_list)
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(
            form=form,
            page=page,
            rows=[(t, issues[t.pk]) for t in page],
            query=query.urlencode(),
            may_batch=permissions.has_action(user, "target.approve"),
            **kwargs,
        )


class BatchApproveView(ActionRequiredMixin, View):
    """Two steps: POST ids → confirmation page listing what will and won't be approved; POST confirm."""

    required_action = "target.approve"
    http_method_names = ["post"]

    def post(self, request):
        ids = [int(i) for i in request.POST.getlist("target") if i.isdecimal()]
        if not ids:
            messages.error(request, "请先勾选要批复的绩效目标。")
            return redirect("targets:review_queue")
        if request.POST.get("confirm") != "yes":
            targets = list(
                selectors.target_queryset(request.user, "target.approve")
                .filter(pk__in=ids)
                .prefetch_related("indicators")
            )
            issues = selectors.quality_for(targets)
            rows = [(t, issues[t.pk], t.status == TargetStatus.PERF_REVIEW and not issues[t.pk]) for t in targets]
            return render(request, "targets/batch_confirm.html", {"rows": rows})
        result = services.targets_batch_approve(actor=request.user, target_ids=ids)
        messages.success(request, f"已批复 {len(result.approved)} 个绩效目标。")
        for target, reason in result.skipped:
            messages.warning(request, f"未批复“{target or ''}”：{reason}")
        return redirect("targets:review_queue")


class TargetCompareView(TargetMixin, TemplateView):
    """Side-by-side diff of any two versions of the same target."""

    template_name = "targets/target_compare.html"

    def get_context_data(self, **kwargs):
        versions = {v.version: v for v in selectors.versions_of(self.target).prefetch_related("indicators")}
        try:
            a, b = int(self.request.GET.get("a", 0)), int(self.request.GET.get("b", 0))
        except ValueError:
            a = b = 0
        if a not in versions or b not in versions:
            ordered = sorted(versions)
            a, b = (ordered[-2], ordered[-1]) if len(ordered) > 1 else (ordered[0], ordered[0])
        return super().get_context_data(
            target=self.target,
            versions=sorted(versions),
            a=versions[a],
            b=versions[b],
            diff=compare_versions(versions[a], versions[b]),
            **kwargs,
        )


# --- Excel -------------------------------------------------------------------------------------


def _xlsx_response(file, filename: str) -> FileResponse:
    """An .xlsx download; the Chinese name goes in ``filename*`` (RFC 5987). Closing deletes the temp file."""
    response = FileResponse(file, as_attachment=True, filename=filename, content_type=excel.XLSX_CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response


class TargetExportView(TargetMixin, View):
    """The 绩效目标申报表 of one target as Excel, for anyone who may see the target (audited)."""

    http_method_names = ["get"]

    def get(self, request, pk):
        return _xlsx_response(*excel.target_export(actor=request.user, target=self.target))


class TargetListExportView(ActionRequiredMixin, View):
    """Every target the user may see in the selected year (the list page's filters), one row per indicator."""

    required_action = "target.view"
    http_method_names = ["get"]

    def get(self, request):
        form = TargetFilterForm(request.GET or None)
        data = form.cleaned_data if form.is_valid() else {}
        return _xlsx_response(
            *excel.list_export(
                actor=request.user,
                year=years.selected_year(request),
                status=data.get("status", ""),
                q=data.get("q", ""),
            )
        )


class TargetImportView(TargetMixin, View):
    """Upload a filled-in 申报表: the whole file is checked first; nothing is saved unless all is good."""

    required_action = "target.edit"

    def check_in_scope(self) -> None:
        if not permissions.can(self.request.user, "target.edit", self.target):
            raise Http404("绩效目标不存在或不在您的填报范围内。")

    def page(self, *, status: int = 200, problems=(), cell_errors=()):
        target = self.target
        blocked = ""
        if not target.is_editable:
            blocked = f"绩效目标当前状态为“{target.get_status_display()}”，不能导入。" + (
                "已批复的目标请先“调整”生成新版本，再在新版本上导入。" if target.status == TargetStatus.APPROVED else ""
            )
        context = {"target": target, "blocked": blocked, "problems": problems, "cell_errors": cell_errors}
        return render(self.request, "targets/target_import.html", context, status=status)

    def get(self, request, pk):
        self.check_in_scope()
        return self.page()

    def post(self, request, pk):
        self.check_in_scope()
        if not self.target.is_editable:
            return self.page(status=400)
        try:
            count = excel.target_import(actor=request.user, target=self.target, upload=request.FILES.get("file"))
        except excel.ImportRefused as exc:
            return self.page(status=400, problems=exc.problems, cell_errors=exc.cell_errors)
        except ValidationError as exc:
            return self.page(status=400, problems=exc.messages)
        messages.success(request, f"已从 Excel 导入 {count} 条绩效指标，并更新了中长期目标和年度目标。")
        return redirect("targets:target_edit", pk=pk)
