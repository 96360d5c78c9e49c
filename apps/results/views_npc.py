"""The NPC export page (报人大): the form; after it, the job's progress bar on the same page; the
export history below.

Thin: the region choices and the history come from ``selectors_npc`` / ``services_npc.npc_history``,
the export starts through ``services_npc.npc_export_start`` (which checks the region again: a
crafted POST for a region outside the user's scope is 403 and starts nothing)."""

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import TemplateView

from apps.core import years
from apps.core.views_mixins import ActionRequiredMixin, add_service_errors

from . import npc_excel
from . import services_npc as services
from .forms_npc import NpcExportForm
from .selectors_npc import ReportSet

HISTORY_PAGE_SIZE = 20


def sets_display(job) -> str:
    sets = job.params.get("sets", []) if isinstance(job.params, dict) else []
    return "、".join(ReportSet.labels[s] for s in ReportSet.values if s in sets)


class NpcExportView(ActionRequiredMixin, TemplateView):
    required_action = "npc.export"
    template_name = "results/npc_export.html"

    def form(self, data=None):
        return NpcExportForm(data, user=self.request.user, default_year=years.selected_year(self.request))

    def get_context_data(self, form=None, **kwargs):
        history = services.npc_history(self.request.user)
        job = None
        if self.request.GET.get("job", "").isdigit():
            job = get_object_or_404(history, pk=int(self.request.GET["job"]))
        page = Paginator(history, HISTORY_PAGE_SIZE).get_page(self.request.GET.get("page"))
        for row in page.object_list:
            row.sets_display = sets_display(row)
        return super().get_context_data(
            form=form or self.form(),
            job=job,
            history=page,
            report_sets=ReportSet.choices,
            notes=[npc_excel.SOURCE_NOTES[s] for s in ReportSet.values],
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        form = self.form(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                job = services.npc_export_start(
                    actor=request.user, region=data["region"], year=data["year"], sets=data["sets"]
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect(f"{reverse('results:npc_export')}?job={job.pk}")
        return self.render_to_response(self.get_context_data(form=form), status=400)
