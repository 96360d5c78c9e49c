"""Forms of audit supervision: a finding (with its rectification deadline), 销号, a referral."""

from django import forms

from apps.core.forms import StyledFormMixin
from apps.orgs.models import FiscalYear, Organization
from apps.results.forms_rectification import deadline_field

from .models import AuditCategory, AuditFinding, Referral

RESPONSIBLE = (Organization.Kind.DEPARTMENT, Organization.Kind.UNIT)


class FindingForm(StyledFormMixin, forms.Form):
    organization = forms.ModelChoiceField(
        label="责任单位", queryset=Organization.objects.none(), required=False, empty_label="请选择"
    )
    fiscal_year = forms.ModelChoiceField(label="所属年度", queryset=FiscalYear.objects.all(), empty_label=None)
    source_audit = forms.CharField(
        label="审计项目/报告文号",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "如：青审报〔2026〕12号"}),
    )
    category = forms.ChoiceField(label="问题类别", choices=AuditCategory.choices)
    problem = forms.CharField(label="审计发现问题", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    amount_involved = forms.CharField(label="涉及金额（元）", required=False, initial="0")
    found_on = forms.DateField(label="发现日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    requirement = forms.CharField(label="整改要求", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    deadline = deadline_field()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = (
            Organization.objects.restrict(user, "org.view")
            .filter(kind__in=RESPONSIBLE, is_active=True, region_id=user.organization.region_id)
            .order_by("path")
        )


class FindingCloseForm(StyledFormMixin, forms.Form):
    comment = forms.CharField(label="销号意见", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReferralForm(StyledFormMixin, forms.Form):
    referred_on = forms.DateField(label="移送日期", widget=forms.DateInput(attrs={"type": "date"}))
    subject = forms.CharField(label="移送对象及事由", required=False, max_length=200)
    subject_organization = forms.ModelChoiceField(
        label="涉及单位（可选）", queryset=Organization.objects.none(), required=False, empty_label="不指定"
    )
    finding = forms.ModelChoiceField(
        label="关联审计发现（可选）", queryset=AuditFinding.objects.none(), required=False, empty_label="不关联"
    )
    summary = forms.CharField(label="线索摘要", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject_organization"].queryset = Organization.objects.restrict(user, "org.view").filter(
            kind__in=RESPONSIBLE
        )
        self.fields["finding"].queryset = AuditFinding.objects.restrict(user, "finding.manage")


class ReferralStatusForm(StyledFormMixin, forms.Form):
    status = forms.ChoiceField(label="状态", choices=Referral.Status.choices)
    outcome = forms.CharField(label="办理结果", required=False, widget=forms.Textarea(attrs={"rows": 2}))
