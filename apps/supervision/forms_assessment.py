"""Forms of the annual assessment (考核): a new sheet, an item, a line's adjustment, publish, withdraw.

Fields are loose (``CharField`` for numbers, ``required=False``) where the service has the rule, so
the message the user sees is the service's, on the right field."""

from decimal import Decimal, InvalidOperation

from django import forms

from apps.core.forms import StyledFormMixin
from apps.core.params import int_param
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
    """An item; the score-gap metric's two parameters are plain fields saved into ``params``."""

    sort_order = forms.CharField(label="序号", required=False, widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    name = forms.CharField(label="考核项目", required=False, max_length=100)
    metric = forms.ChoiceField(label="计分方式", choices=[("", "请选择"), *Metric.choices], required=False)
    max_points = forms.CharField(label="分值", required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    tolerance = forms.CharField(
        label="允许偏差（分）",
        required=False,
        help_text="自评得分与财政重点评价得分的平均偏差在此以内不扣分；不填按 5 分。",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "5"}),
    )
    deduct_per_point = forms.CharField(
        label="每超 1 分扣分",
        required=False,
        help_text="平均偏差每超出允许偏差 1 分扣减的分数；不填按 1 分。",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "1"}),
    )
    guidance = forms.CharField(label="评分标准", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    PARAM_FIELDS = ("tolerance", "deduct_per_point")

    def clean_sort_order(self):
        raw = (self.cleaned_data.get("sort_order") or "").strip()
        if not raw:
            return ""
        value = int_param(raw, low=0, high=32767)
        if value is None:
            raise forms.ValidationError("序号应为0至32767之间的整数。")
        return value

    def clean_metric(self):
        metric = self.cleaned_data.get("metric") or ""
        if not metric:
            raise forms.ValidationError("请选择计分方式。")
        return metric

    def _param(self, name):
        raw = (self.cleaned_data.get(name) or "").strip()
        if not raw:
            return None
        try:
            value = Decimal(raw) if raw.isascii() else None
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or not 0 <= value <= 100:
            raise forms.ValidationError(f"{self.fields[name].label}应为0至100之间的数字。")
        return value

    def clean_tolerance(self):
        return self._param("tolerance")

    def clean_deduct_per_point(self):
        return self._param("deduct_per_point")

    def service_data(self) -> dict:
        """What ``item_save`` takes: the parameters only for the score-gap metric, as ``params``."""
        data = {k: v for k, v in self.cleaned_data.items() if k not in self.PARAM_FIELDS}
        params = {}
        if data.get("metric") == Metric.SCORE_GAP:
            params = {k: str(self.cleaned_data[k]) for k in self.PARAM_FIELDS if self.cleaned_data.get(k) is not None}
        return data | {"params": params}


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
