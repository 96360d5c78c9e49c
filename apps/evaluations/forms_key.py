"""Forms of the key-evaluation pages (the frame itself is read from the POST by the view: one row
per line, as the monitoring report form does)."""

from django import forms

from apps.funds.models import PolicyTag
from apps.orgs.models import FiscalYear, Organization

from .models import EvaluationPlan, KeyEvaluation


class PlanCreateForm(forms.Form):
    fiscal_year = forms.ModelChoiceField(
        label="评价年度（被评价项目的预算年度）",
        queryset=FiscalYear.objects.order_by("-year"),
        empty_label=None,
        help_text="重点评价在次年开展：2026年评价2025年度的项目。",
    )
    name = forms.CharField(label="计划名称", max_length=100, required=False, help_text="不填则自动命名。")

    def __init__(self, *args, year: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if year is not None and not self.is_bound:
            self.fields["fiscal_year"].initial = year
        for f in self.fields.values():
            f.widget.attrs.setdefault(
                "class",
                "form-select form-select-sm" if f is self.fields["fiscal_year"] else "form-control form-control-sm",
            )


class FundPickerForm(forms.Form):
    SORTS = [("code", "按项目编码"), ("tag", "政策标签优先"), ("amount", "按金额（大到小）"), ("department", "按部门")]

    q = forms.CharField(label="项目", required=False)
    department = forms.ModelChoiceField(label="部门", queryset=Organization.objects.none(), required=False)
    tag = forms.ModelChoiceField(label="政策标签", queryset=PolicyTag.objects.none(), required=False)
    due = forms.BooleanField(label="只看将错过周期的项目", required=False)
    sort = forms.ChoiceField(label="排序", choices=SORTS, required=False)

    def __init__(self, *args, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        if departments is not None:
            self.fields["department"].queryset = departments
        self.fields["tag"].queryset = PolicyTag.objects.filter(is_active=True).order_by("sort_order", "name")
        self.fields["department"].empty_label = "全部部门"
        self.fields["tag"].empty_label = "全部标签"


class KeyFilterForm(forms.Form):
    fiscal_year = forms.TypedChoiceField(label="评价年度", required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *KeyEvaluation.Status.choices])
    kind = forms.ChoiceField(label="类型", required=False, choices=[("", "全部类型"), *EvaluationPlan.Kind.choices])
    subject = forms.ChoiceField(
        label="评价对象", required=False, choices=[("", "全部对象"), *KeyEvaluation.Subject.choices]
    )
    q = forms.CharField(label="项目/部门", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        years = FiscalYear.objects.order_by("-year").values_list("year", flat=True)
        self.fields["fiscal_year"].choices = [("", "全部年度"), *[(y, f"{y}年度") for y in years]]
