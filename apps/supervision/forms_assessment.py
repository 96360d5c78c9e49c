"""Forms of the annual assessment (考核): a new sheet, an item, a line's adjustment, publish, withdraw.

Fields are loose (``CharField`` for numbers, ``required=False``) where the service has the rule, so
the message the user sees is the service's, on the right field."""

import json

from django import forms

from apps.core.forms import StyledFormMixin
from apps.orgs.models import FiscalYear

from .models import AssessmentKind, Metric


class AssessmentCreateForm(StyledFormMixin, forms.Form):
    fiscal_year = forms.ModelChoiceField(label="考核年度", queryset=FiscalYear.objects.all(), empty_label=None)
    kind = forms.ChoiceField(label="考核对象", choices=AssessmentKind.choices)
    title = forms.CharField(
        label="考核名称（可不填）",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "如：2025年度部门预算绩效管理工作考核"}),
    )


class ItemForm(StyledFormMixin, forms.Form):
    sort_order = forms.CharField(label="序号", required=False, widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    name = forms.CharField(label="考核项目", required=False, max_length=100)
    metric = forms.ChoiceField(label="计分方式", choices=Metric.choices)
    max_points = forms.CharField(label="分值", required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    params = forms.CharField(
        label="计分参数（JSON，可不填）",
        required=False,
        widget=forms.TextInput(attrs={"placeholder": '如：{"tolerance": 5, "deduct_per_point": 1}'}),
    )
    guidance = forms.CharField(label="评分标准", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_params(self):
        raw = (self.cleaned_data.get("params") or "").strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except ValueError:
            raise forms.ValidationError('计分参数应为 JSON 对象，如 {"tolerance": 5}。') from None
        if not isinstance(value, dict):
            raise forms.ValidationError('计分参数应为 JSON 对象，如 {"tolerance": 5}。')
        return value


class LineAdjustForm(StyledFormMixin, forms.Form):
    points = forms.CharField(label="得分", required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    reason = forms.CharField(label="调整理由", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    evidence = forms.CharField(label="佐证", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, manual: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if manual:
            self.fields["reason"].label = "评分说明"
            self.fields["evidence"].label = "佐证材料"
        else:
            del self.fields["evidence"]


class PublishForm(StyledFormMixin, forms.Form):
    notice = forms.CharField(label="通报说明", required=False, widget=forms.Textarea(attrs={"rows": 4}))


class WithdrawForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label="撤回理由", required=False, widget=forms.Textarea(attrs={"rows": 2}))
