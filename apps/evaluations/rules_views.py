"""评价计分规则 page: everyone who may see the region's self-evaluation rounds reads the rules of
their region for the selected year beside the national defaults; the region's finance bureau
edits them (or restores the defaults), which starts the re-scoring job and leads to its page."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.views.generic import TemplateView

from apps.core import years
from apps.core.jobs import visible_jobs
from apps.core.views_mixins import ActionRequiredMixin, add_service_errors
from apps.orgs.models import FiscalYear

from . import scoring
from .forms_rules import (
    FIELDS,
    ScoringRulesForm,
    effective_values,
    finance_bureau_of,
    may_manage,
    national_defaults,
    rules_save,
)
from .models import ScoringRules, SelfEvaluation
from .tasks import RESCORE_KIND

SECTIONS = [
    ("一级指标权重（分）", ["weight_execution", "weight_output", "weight_effect", "weight_satisfaction"]),
    ("定性指标完成程度区间（%）", ["band_achieved_min", "band_partial_min"]),
    ("评价等级分数线（分，含下限）", ["grade_excellent", "grade_good", "grade_fair"]),
    ("重点评价", ["cycle_years", "key_min_output_effect"]),
]


def _shown(value) -> str:
    return value if isinstance(value, int) and not isinstance(value, bool) else scoring.fmt(value)


class RulesView(ActionRequiredMixin, TemplateView):
    required_action = "selfeval.round"
    template_name = "evaluations/rules_page.html"

    def setup_page(self):
        user = self.request.user
        if user.organization is None:
            raise Http404("您的账号未分配所属机构。")
        self.region = user.organization.region
        self.year = FiscalYear.objects.filter(pk=years.selected_year(self.request)).first()
        if self.year is None:
            raise Http404("尚未设置预算年度。")
        self.bureau = finance_bureau_of(user)
        self.manage = may_manage(user, self.bureau) and self.bureau.region_id == self.region.pk

    def get(self, request, *args, **kwargs):
        self.setup_page()
        return super().get(request, *args, **kwargs)

    def get_context_data(self, form=None, **kwargs):
        row = (
            ScoringRules.objects.filter(region=self.region, fiscal_year=self.year).select_related("updated_by").first()
        )
        current, defaults = effective_values(row), national_defaults()
        labels = {f: ScoringRules._meta.get_field(f).verbose_name for f in FIELDS}
        sections = [
            (
                title,
                [
                    {
                        "name": f,
                        "label": labels[f],
                        "current": _shown(current[f]),
                        "default": _shown(defaults[f]),
                        "differs": str(_shown(current[f])) != str(_shown(defaults[f])),
                    }
                    for f in names
                ],
            )
            for title, names in SECTIONS
        ]
        context = {
            "region": self.region,
            "year": self.year,
            "row": row,
            "sections": sections,
            "manage": self.manage,
            "is_default": row is None or all(not item["differs"] for _, items in sections for item in items),
        }
        if self.manage:
            if form is None:
                form = ScoringRulesForm(initial={f: _shown(current[f]) for f in FIELDS})
            context["form"] = form
            context["form_sections"] = [(title, [form[f] for f in names]) for title, names in SECTIONS]
            context["scored"] = SelfEvaluation.objects.filter(
                round__organization__region=self.region, round__fiscal_year=self.year, score__isnull=False
            ).count()
            context["jobs"] = list(
                visible_jobs(self.request.user)
                .filter(kind=RESCORE_KIND, params__region_id=self.region.pk, params__fiscal_year_id=self.year.pk)
                .select_related("created_by")[:5]
            )
        return super().get_context_data(**context, **kwargs)

    def post(self, request, *args, **kwargs):
        self.setup_page()
        if not self.manage:
            raise PermissionDenied("只有本区域财政部门可以设置评价计分规则。")
        if "reset" in request.POST:
            form, values = ScoringRulesForm(initial=national_defaults()), national_defaults()
        else:
            form = ScoringRulesForm(request.POST)
            if not form.is_valid():
                return self.render_to_response(self.get_context_data(form=form), status=400)
            values = form.cleaned_data
        try:
            _, job, changed = rules_save(actor=request.user, bureau=self.bureau, fiscal_year=self.year, values=values)
        except ValidationError as exc:
            if "reset" in request.POST:
                form = ScoringRulesForm(national_defaults())
                form.is_valid()
            add_service_errors(form, exc)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        if job is None:
            if not changed:
                messages.info(request, "计分规则没有变化，未做改动。")
            else:
                messages.success(request, "重点评价参数已保存（不影响单位自评得分）。")
            return redirect("evaluations:rules")
        messages.success(request, "计分规则已保存，正在后台按新规则重新计算本区域本年度的单位自评得分。")
        return redirect("jobs:job_detail", pk=job.pk)
