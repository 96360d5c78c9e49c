from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.generic import FormView, TemplateView

from apps.core import permissions, years
from apps.core.views_mixins import ActionRequiredMixin, add_service_errors, htmx_template

from . import deadlines, selectors, services
from .forms import CalendarCopyForm, CalendarEntryForm, CalendarFilterForm, OrganizationFilterForm
from .models import FiscalYear, Organization, WorkCalendar, WorkStep


class OrganizationListView(ActionRequiredMixin, TemplateView):
    required_action = "org.view"
    page_size = 50

    def get_template_names(self):
        return [htmx_template(self.request, "orgs/organization_list.html", "orgs/partials/organization_table.html")]

    def get_context_data(self, **kwargs):
        form = OrganizationFilterForm(self.request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        orgs = selectors.organization_list(user=self.request.user, **filters)
        page = Paginator(orgs, self.page_size).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(form=form, page=page, query=query.urlencode(), **kwargs)


class CalendarListView(ActionRequiredMixin, TemplateView):
    """Every deadline of the region and year: the steps (finance edits its own region's), the rounds'
    due dates and the per-item deadlines of the coming 30 days and the overdue ones."""

    required_action = "calendar.view"
    template_name = "orgs/calendar_list.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        year = years.selected_year(self.request)
        form = CalendarFilterForm(self.request.GET or None)
        region = form.cleaned_data.get("region") if form.is_valid() else None
        region_id = region.pk if region else None
        today = timezone.localdate()
        windows = deadlines.ReminderWindows()  # the "7天内到期" badges follow each region's rule
        items = deadlines.item_lists(user, region_id, today)
        return super().get_context_data(
            form=form,
            year=year,
            tables=self._tables(year, region, windows, today),
            coming=[(d, windows.item_badge(d, today)) for d in items.coming],
            overdue=[(d, windows.item_badge(d, today)) for d in items.overdue],
            items=items,
            window_days=deadlines.ITEM_WINDOW_DAYS,
            copy_form=self._copy_form(year),
            **kwargs,
        )

    def _tables(self, year, region, windows, today) -> list[dict]:
        """One table per finance bureau: its steps (editable for its own finance), then its rounds."""
        user = self.request.user
        by_bureau: dict[Organization, dict[str, WorkCalendar]] = {}
        for entry in selectors.calendar_list(user=user, fiscal_year=year, region=region):
            by_bureau.setdefault(entry.organization, {})[entry.step] = entry
        managed = selectors.managed_finance_bureau(user)
        if managed is not None and (region is None or region.pk == managed.region_id):
            by_bureau.setdefault(managed, {})
        rounds = deadlines.rounds_by_bureau(user, year, region.pk if region else None)
        missing = set(rounds) - {bureau.pk for bureau in by_bureau}
        if missing:  # a region that runs rounds but has no calendar yet still shows them
            for bureau in Organization.objects.filter(pk__in=missing).select_related("region"):
                by_bureau.setdefault(bureau, {})

        def badge(day, region_id):
            return windows.badge(day, region_id, today, schedule=True)

        return [
            {
                "bureau": bureau,
                "editable": managed is not None and bureau.pk == managed.pk,
                "rows": [
                    (step, entry, badge(entry.due_on, bureau.region_id) if entry else None)
                    for step in WorkStep
                    for entry in [steps.get(step.value)]
                ],
                "rounds": [(d, badge(d.due_on, d.region_id)) for d in rounds.get(bureau.pk, [])],
            }
            for bureau, steps in sorted(by_bureau.items(), key=lambda kv: (kv[0].region.sort_order, kv[0].code))
        ]

    def _copy_form(self, year: int | None) -> CalendarCopyForm | None:
        if not permissions.has_action(self.request.user, "calendar.copy"):
            return None
        return CalendarCopyForm(initial={"fiscal_year": year})


class CalendarCopyView(ActionRequiredMixin, FormView):
    """The city's performance division copies 市本级's dates of a year to the districts."""

    required_action = "calendar.copy"
    form_class = CalendarCopyForm
    template_name = "orgs/calendar_copy.html"

    def get_initial(self):
        return {"fiscal_year": years.selected_year(self.request)}

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            result = services.calendar_copy(
                actor=self.request.user,
                fiscal_year=data["fiscal_year"],
                regions=data["regions"],
                overwrite=data["overwrite"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, result.message)
        return redirect("orgs:calendar_list")


class CalendarEntryEditView(ActionRequiredMixin, FormView):
    required_action = "calendar.manage"
    form_class = CalendarEntryForm
    template_name = "orgs/calendar_edit.html"

    def dispatch(self, request, *args, **kwargs):
        if kwargs["step"] not in WorkStep.values:
            raise Http404("未知的业务环节。")
        self.step = WorkStep(kwargs["step"])
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def target(self) -> tuple[Organization, FiscalYear, WorkCalendar | None]:
        bureau = selectors.managed_finance_bureau(self.request.user)
        if bureau is None:
            raise PermissionDenied("您只能维护本区域的工作日历。")
        fiscal_year = FiscalYear.objects.filter(pk=years.selected_year(self.request)).first()
        if fiscal_year is None:
            raise Http404("尚未设置预算年度。")
        entry = WorkCalendar.objects.filter(organization=bureau, fiscal_year=fiscal_year, step=self.step).first()
        return bureau, fiscal_year, entry

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.target[2]}

    def form_valid(self, form):
        try:
            bureau, fiscal_year, _ = self.target
            services.calendar_entry_set(
                actor=self.request.user,
                organization=bureau,
                fiscal_year=fiscal_year,
                step=self.step,
                **{name: form.cleaned_data[name] for name in ["starts_on", "due_on", "note"]},
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"已保存“{self.step.label}”的截止日期。")
        return redirect("orgs:calendar_list")

    def get_context_data(self, **kwargs):
        bureau, fiscal_year, _ = self.target
        return super().get_context_data(step=self.step, bureau=bureau, fiscal_year=fiscal_year, **kwargs)
