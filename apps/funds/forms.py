from decimal import Decimal

from django import forms

from apps.core.forms import StyledFormMixin
from apps.orgs.models import Organization, Region

from .models import SPECIAL_AREAS, BudgetType, PolicyTag, SpecialFund

WAN = Decimal(10000)


class FundFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(
        label="名称/编码",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "项目名称或编码"}),
    )
    budget_type = forms.ChoiceField(
        label="预算类型", required=False, choices=[("", "全部预算类型"), *BudgetType.choices]
    )
    department = forms.ModelChoiceField(
        label="主管部门", queryset=Organization.objects.none(), required=False, empty_label="全部部门"
    )
    request_status = forms.ChoiceField(
        label="申报状态", required=False, choices=[("", "全部申报状态"), *SpecialFund.RequestStatus.choices]
    )
    policy_tag = forms.ModelChoiceField(
        label="政策标签", queryset=PolicyTag.objects.filter(is_active=True), required=False, empty_label="全部政策标签"
    )
    special_area = forms.ChoiceField(label="特殊领域", required=False, choices=[("", "全部特殊领域"), *SPECIAL_AREAS])
    has_approved_target = forms.ChoiceField(
        label="绩效目标", required=False, choices=[("", "绩效目标：不限"), ("yes", "已批复目标"), ("no", "无批复目标")]
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Organization.objects.restrict(user, "fund.view").filter(
            kind=Organization.Kind.DEPARTMENT
        )


class FundForm(StyledFormMixin, forms.ModelForm):
    """Amounts are typed in 万元 (as finance documents state them) and stored in 元."""

    fiscal_amount_wan = forms.DecimalField(
        label="财政拨款（万元）", min_value=0, max_digits=16, decimal_places=4, initial=0
    )
    other_amount_wan = forms.DecimalField(
        label="其他资金（万元）", min_value=0, max_digits=16, decimal_places=4, initial=0
    )

    class Meta:
        model = SpecialFund
        fields = [
            "code",
            "name",
            "budget_type",
            "sector",
            "organization",
            "period_start",
            "period_end",
            "is_new_major_policy",
            "is_investment_fund",
            "is_ppp",
            "is_procurement",
            "is_purchase_of_services",
            "is_debt",
            "is_transfer",
            "is_classified",
            "policy_tags",
            "description",
        ]
        widgets = {"policy_tags": forms.CheckboxSelectMultiple, "description": forms.Textarea(attrs={"rows": 3})}
        error_messages = {
            "code": {"required": "请填写项目编码。"},
            "name": {"required": "请填写项目名称。"},
            "period_start": {"invalid": "实施期起始年应为 4 位年份。"},
            "period_end": {"invalid": "实施期截止年应为 4 位年份。"},
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = Organization.objects.restrict(user, "fund.edit").filter(
            kind__in=[Organization.Kind.DEPARTMENT, Organization.Kind.UNIT]
        )
        self.fields["organization"].label = "实施单位（主管部门或下属单位）"
        self.fields["policy_tags"].queryset = PolicyTag.objects.filter(is_active=True)
        if self.instance.pk:
            self.fields["fiscal_amount_wan"].initial = self.instance.fiscal_amount / WAN
            self.fields["other_amount_wan"].initial = self.instance.other_amount / WAN

    def service_fields(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k in self.Meta.fields and k != "policy_tags"}
        data["fiscal_amount"] = (self.cleaned_data["fiscal_amount_wan"] * WAN).quantize(Decimal("0.01"))
        data["other_amount"] = (self.cleaned_data["other_amount_wan"] * WAN).quantize(Decimal("0.01"))
        return data


class TransferForm(StyledFormMixin, forms.Form):
    region = forms.ModelChoiceField(
        label="接收区市", queryset=Region.objects.filter(level=Region.Level.DISTRICT), required=False
    )
    amount_wan = forms.DecimalField(label="金额（万元）", min_value=0, max_digits=16, decimal_places=4, required=False)

    def clean(self):
        data = super().clean()
        if data.get("region") and data.get("amount_wan") is None:
            self.add_error("amount_wan", "请填写该区市的转移支付金额。")
        return data


TransferFormSet = forms.formset_factory(TransferForm, extra=2, max_num=10)


class ArrangeForm(StyledFormMixin, forms.Form):
    amount_wan = forms.DecimalField(label="安排金额（万元）", min_value=0, max_digits=16, decimal_places=4)
    comment = forms.CharField(label="安排说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(
        label="偏离建议的理由",
        required=False,
        help_text="安排金额与挂钩建议金额不一致时必填",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DeclineForm(StyledFormMixin, forms.Form):
    comment = forms.CharField(
        label="不予安排的理由",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "请填写不予安排的理由。"},
    )
