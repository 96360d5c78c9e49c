"""Forms of 单位自评 pages. The numbers themselves are checked by the services (one set of
messages for the pages, the API and the import)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms

from apps.core.forms import StyledFormMixin
from apps.orgs.models import Organization

from .models import Grade, SelfEvaluation, SelfEvaluationLine
from .services import Entry

WAN = Decimal(10000)
LINE_INPUTS = ("actual_value", "actual_text", "band", "band_percent", "shortfall_reason", "improvement_measure")


class SelfRoundOpenForm(StyledFormMixin, forms.Form):
    due_on = forms.DateField(
        label="报送截止日期",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": "请填写报送截止日期。",
            "invalid": "报送截止日期格式不正确，请按 2026-03-31 的格式填写。",
        },
    )
    name = forms.CharField(
        label="名称",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "默认：某年度项目支出绩效自评"}),
    )


class SelfEvaluationFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(
        label="项目", required=False, max_length=100, widget=forms.TextInput(attrs={"placeholder": "项目名称或编码"})
    )
    status = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部状态"), *SelfEvaluation.Status.choices, ("overdue", "已逾期")]
    )
    grade = forms.ChoiceField(
        label="等级", required=False, choices=[("", "全部等级"), *Grade.choices, ("none", "未评分")]
    )
    department = forms.ModelChoiceField(
        label="部门", queryset=Organization.objects.none(), required=False, empty_label="全部部门"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Organization.objects.restrict(user, "selfeval.view").filter(
            kind=Organization.Kind.DEPARTMENT
        )


class AdjustForm(StyledFormMixin, forms.Form):
    """Finance's adjustment; the service checks the score (0–100, two decimals) and the reason."""

    new_score = forms.CharField(
        label="调整后得分", required=False, max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    reason = forms.CharField(
        label="调整理由", required=False, widget=forms.Textarea(attrs={"rows": 3, "placeholder": "必填：说明调整依据"})
    )


# --- the fill-in form: plain POST names, parsed here -------------------------------------------


def yuan_from_wan(text):
    """The amount typed in 万元 → yuan (2 decimals); anything that is not a number is passed on as
    typed so the service names it (“实际执行数必须是数字”)."""
    if text is None:
        return None
    text = str(text).strip().replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    if not value.is_finite():
        return text
    return (value * WAN).quantize(Decimal("0.01"))


def wan_from_yuan(value: Decimal | None) -> str:
    return "" if value is None else f"{(value / WAN).quantize(Decimal('0.01')):f}"


def line_field(line: SelfEvaluationLine, name: str) -> str:
    return f"line-{line.pk}-{name}"


def entries_from(data, lines: list[SelfEvaluationLine]) -> dict[int, Entry]:
    """One ``Entry`` per line from the POSTed fields ``line-<id>-<field>`` (absent lines are left out)."""
    entries = {}
    for line in lines:
        if not any(line_field(line, name) in data for name in LINE_INPUTS):
            continue
        entries[line.pk] = Entry(**{name: data.get(line_field(line, name), "") for name in LINE_INPUTS})
    return entries


def saved_values(line: SelfEvaluationLine) -> dict[str, str]:
    """A line's saved values as the form shows them."""
    values = {name: getattr(line, name) for name in LINE_INPUTS}
    for name in ("actual_value", "band_percent"):
        values[name] = "" if values[name] is None else f"{values[name].normalize():f}"
    return values
