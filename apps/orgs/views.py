from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.utils.functional import cached_property
from django.views.generic import FormView, TemplateView

from apps.core import permissions, years
from apps.core.views_mixins import ActionRequiredMixin, add_service_errors, htmx_template

from . import selectors, services
from .forms import CalendarEntryForm, CalendarFilterForm, OrganizationFilterForm
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


def _managed_finance_bureau(user) -> Organization | None:
    """The finance bureau whose calendar this user may edit (its own region's), if any."""
    org = user.organization
    if org is None:
        return None
    bureau = org if org.kind == Organization.Kind.FINANCE else org.parent
    if bureau is None or bureau.kind != Organization.Kind.FINANCE:
        return None
    return bureau if permissions.can(user, "calendar.manage", bureau) else None


class CalendarListView(ActionRequiredMixin, TemplateView):
    """Due dates per region for the selected fiscal year; finance edits its own region's."""

    required_action = "calendar.view"
    template_name = "orgs/calendar_list.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        year = years.selected_year(self.request)
        form = CalendarFilterForm(self.request.GET or None)
        region = form.cleaned_data.get("region") if form.is_valid() else None
        entries = list(selectors.calendar_list(user=user, fiscal_year=year, region=region))
        by_bureau: dict[Organization, dict[str, WorkCalendar]] = {}
        for entry in entries:
            by_bureau.setdefault(entry.organization, {})[entry.step] = entry
        managed = _managed_finance_bureau(user)
        if managed is not None and (region is None or region.pk == managed.region_id):
            by_bureau.setdefault(managed, {})
        tables = [
            {
                "bureau": bureau,
                "editable": managed is not None and bureau.pk == managed.pk,
                "rows": [(step, steps.get(step.value)) for step in WorkStep],
            }
            for bureau, steps in sorted(by_bureau.items(), key=lambda kv: (kv[0].region.sort_order, kv[0].code))
        ]
        return super().get_context_data(form=form, year=year, tables=tables, **kwargs)


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
        bureau = _managed_finance_bureau(self.request.user)
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
