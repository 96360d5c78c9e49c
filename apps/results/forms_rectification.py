"""Forms of the 整改 pages. They only carry what was typed; the services check it (one set of
Chinese messages for the pages and the API)."""

from __future__ import annotations

from django import forms

from apps.core.forms import StyledFormMixin
from apps.funds.models import SpecialFund
from apps.orgs.models import FiscalYear, Organization

from .models import Rectification
from .selectors_rectification import STATUS_FILTER_CHOICES

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DEADLINE_ERRORS = {"required": "请填写整改期限。", "invalid": "整改期限格式不正确，请按 2027-03-31 的格式填写。"}


def deadline_field(required: bool = True, label: str = "整改期限") -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DATE_WIDGET, error_messages=DEADLINE_ERRORS)


class RectificationFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(
        label="项目",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "项目名称、编码或问题"}),
    )
    year = forms.TypedChoiceField(label="年度", required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label="状态", required=False, choices=STATUS_FILTER_CHOICES)
    source = forms.ChoiceField(label="来源", required=False, choices=[("", "全部来源"), *Rectification.Source.choices])
    department = forms.ModelChoiceField(
        label="部门", queryset=Organization.objects.none(), required=False, empty_label="全部部门"
    )

    def __init__(self, *args, user, fiscal_years=None, **kwargs):
        super().__init__(*args, **kwargs)
        fiscal_years = fiscal_years if fiscal_years is not None else FiscalYear.objects.all()
        self.fields["year"].choices = [("", "全部年度")] + [
            (fy.year, f"{fy.year}年度") for fy in sorted(fiscal_years, key=lambda fy: -fy.year)
        ]
        self.fields["department"].queryset = (
            Organization.objects.restrict(user, "rectification.view")
            .filter(kind=Organization.Kind.DEPARTMENT)
            .order_by("path")
        )


class RectificationFillForm(StyledFormMixin, forms.Form):
    """The unit's measures and progress."""

    measures = forms.CharField(
        label="整改措施",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "针对问题采取的整改措施"}),
    )
    progress_note = forms.CharField(
        label="整改情况",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "整改进展和完成情况，报送核实前必填"}),
    )


class VerifyForm(StyledFormMixin, forms.Form):
    comment = forms.CharField(
        label="核实意见",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "通过时可选；重新整改时必填"}),
    )
    deadline = deadline_field(required=False, label="新的整改期限（重新整改时可选）")


class RaiseFromSelfEvaluationForm(StyledFormMixin, forms.Form):
    deadline = deadline_field()
    requirement = forms.CharField(
        label="整改要求",
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": "默认：针对偏差原因落实改进措施，按期报送整改情况和佐证材料"}
        ),
    )


class RaiseFromKeyEvaluationForm(StyledFormMixin, forms.Form):
    problems = forms.CharField(
        label="存在问题（每行一项，可修改、拆分或删除）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    requirement = forms.CharField(label="整改要求", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    deadline = deadline_field()

    def problem_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("problems", "").splitlines() if line.strip()]


class RaiseFromKeyMonitoringForm(StyledFormMixin, forms.Form):
    problem = forms.CharField(label="存在问题", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    requirement = forms.CharField(label="整改要求", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    deadline = deadline_field()


class ManualRectificationForm(StyledFormMixin, forms.Form):
    """审计发现 or another problem finance raises by hand, for a unit (optionally one of its funds)."""

    source = forms.ChoiceField(
        label="问题来源",
        choices=[(Rectification.Source.AUDIT, "审计发现"), (Rectification.Source.MONITORING, "绩效监控")],
        initial=Rectification.Source.AUDIT,
    )
    source_reference = forms.CharField(
        label="来源文号/说明",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "如：青审财报〔2026〕12号"}),
    )
    organization = forms.ModelChoiceField(
        label="整改责任单位", queryset=Organization.objects.none(), required=False, empty_label="请选择"
    )
    fund_code = forms.CharField(
        label="项目编码（可选）",
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"placeholder": "针对具体专项资金时填写，如 370200-EDU-2025-01"}),
    )
    problem = forms.CharField(label="存在问题", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    requirement = forms.CharField(label="整改要求", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    deadline = deadline_field()

    def __init__(self, *args, user, fiscal_year: int | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = (
            Organization.objects.restrict(user, "rectification.create")
            .filter(kind__in=(Organization.Kind.DEPARTMENT, Organization.Kind.UNIT), is_active=True)
            .order_by("path")
        )
        self.user, self.fiscal_year = user, fiscal_year

    def clean_fund_code(self):
        code = self.cleaned_data.get("fund_code", "").strip()
        if not code:
            return None
        fund = (
            SpecialFund.objects.restrict(self.user, "fund.view")
            .filter(code=code)
            .select_related("organization")
            .order_by("-fiscal_year")
            .first()
        )
        if fund is None:
            raise forms.ValidationError(f"找不到项目编码为“{code}”的专项资金。")
        return fund
