"""Forms of 预算挂钩: the rule table (one row per grade), the year/department filter and the inline
安排 form of the 安排 list (amounts typed in 万元, stored in 元)."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from apps.core.forms import StyledFormMixin
from apps.evaluations.models import Grade
from apps.orgs.models import Organization

from .models import Suggestion

WAN = Decimal(10000)
RULE_CHOICES = [c for c in Suggestion.choices if c[0] != Suggestion.NONE]


def _percent_field(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=f"{label}调整比例（%）",
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("-100"),
        max_value=Decimal("100"),
        error_messages={
            "invalid": f"“{label}”的调整比例必须是数字。",
            "required": f"请填写“{label}”的调整比例（不调整填 0）。",
            "min_value": f"“{label}”的调整比例应在 -100 至 100 之间。",
            "max_value": f"“{label}”的调整比例应在 -100 至 100 之间。",
            "max_decimal_places": f"“{label}”的调整比例最多保留两位小数。",
            "max_digits": f"“{label}”的调整比例应在 -100 至 100 之间。",
        },
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )


class LinkageRuleForm(StyledFormMixin, forms.Form):
    """Fields ``<grade>_suggestion``, ``<grade>_adjust_percent``, ``<grade>_note`` for 优/良/中/差."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for grade, label in Grade.choices:
            self.fields[f"{grade}_suggestion"] = forms.ChoiceField(
                label=f"{label}预算安排建议",
                choices=RULE_CHOICES,
                error_messages={
                    "required": f"请选择“{label}”的预算安排建议。",
                    "invalid_choice": f"“{label}”的预算安排建议无效，请选择优先保障、正常安排、压减或取消。",
                },
            )
            self.fields[f"{grade}_adjust_percent"] = _percent_field(label)
            self.fields[f"{grade}_note"] = forms.CharField(
                label=f"{label}说明",
                required=False,
                max_length=200,
                error_messages={"max_length": f"“{label}”的说明不能超过 200 字。"},
            )
        # StyledFormMixin ran before the fields existed: style them now.
        for field in self.fields.values():
            css = (
                "form-select form-select-sm"
                if isinstance(field.widget, forms.Select)
                else "form-control form-control-sm"
            )
            field.widget.attrs["class"] = css

    @staticmethod
    def initial_from(table) -> dict:
        initial = {}
        for grade, rule in table.items():
            initial[f"{grade}_suggestion"] = rule.suggestion
            initial[f"{grade}_adjust_percent"] = rule.adjust_percent
            initial[f"{grade}_note"] = rule.note
        return initial

    def grade_rows(self):
        return [
            (grade, label, self[f"{grade}_suggestion"], self[f"{grade}_adjust_percent"], self[f"{grade}_note"])
            for grade, label in Grade.choices
        ]

    def rows(self) -> dict[str, dict]:
        data = self.cleaned_data
        return {
            grade: {
                "suggestion": data[f"{grade}_suggestion"],
                "adjust_percent": data[f"{grade}_adjust_percent"],
                "note": data.get(f"{grade}_note", ""),
            }
            for grade in Grade.values
        }


class DepartmentFilterForm(StyledFormMixin, forms.Form):
    department = forms.ModelChoiceField(
        label="主管部门", queryset=Organization.objects.none(), required=False, empty_label="全部部门"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Organization.objects.restrict(user, "linkage.view").filter(
            kind=Organization.Kind.DEPARTMENT
        )


class InlineArrangeForm(StyledFormMixin, forms.Form):
    """One row of the 安排 list."""

    amount_wan = forms.DecimalField(
        label="安排金额（万元）",
        min_value=0,
        max_digits=16,
        decimal_places=4,
        error_messages={
            "invalid": "“安排金额”必须是数字（万元）。",
            "required": "请填写“安排金额”（万元）。",
            "min_value": "“安排金额”不能为负数。",
            "max_decimal_places": "“安排金额”最多保留四位小数（万元）。",
            "max_digits": "“安排金额”数值过大。",
        },
    )
    reason = forms.CharField(label="偏离建议的理由", required=False, max_length=1000)

    def amount_yuan(self) -> Decimal:
        return (self.cleaned_data["amount_wan"] * WAN).quantize(Decimal("0.01"))
