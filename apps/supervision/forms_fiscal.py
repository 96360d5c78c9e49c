"""Forms of the district fiscal-operation evaluation. Validation of figures and scores lives in
``services_fiscal``; these forms only collect the typed text (errors come back by field)."""

from __future__ import annotations

from django import forms

from apps.core.forms import StyledFormMixin
from apps.orgs.models import FiscalYear

from .models import FiscalIndicator


def _style(form) -> None:
    """Bootstrap classes on fields added after ``StyledFormMixin`` ran (one per indicator)."""
    for field in form.fields.values():
        css = field.widget.attrs.get("class", "")
        if "form-control" not in css:
            field.widget.attrs["class"] = f"{css} form-control form-control-sm".strip()


class InvalidMarkMixin:
    """A field that receives an error (from the form or the service) is drawn red."""

    def add_error(self, field, error):
        super().add_error(field, error)
        if field in self.fields:
            widget = self.fields[field].widget
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


class EvaluationForm(InvalidMarkMixin, StyledFormMixin, forms.Form):
    fiscal_year = forms.ModelChoiceField(
        label="评价年度", queryset=FiscalYear.objects.order_by("-year"), empty_label="请选择", required=False
    )
    title = forms.CharField(label="评价名称", required=False, max_length=200)
    due_on = forms.DateField(label="区市填报截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))


class EvaluationEditForm(InvalidMarkMixin, StyledFormMixin, forms.Form):
    title = forms.CharField(label="评价名称", required=False, max_length=200)
    due_on = forms.DateField(label="区市填报截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))


class IndicatorForm(InvalidMarkMixin, StyledFormMixin, forms.Form):
    group = forms.CharField(label="指标类别", required=False, max_length=50)
    name = forms.CharField(label="指标名称", required=False, max_length=100)
    unit = forms.CharField(label="计量单位", required=False, max_length=20)
    direction = forms.ChoiceField(label="指标方向", choices=FiscalIndicator.Direction.choices)
    max_points = forms.CharField(label="分值", required=False)
    guidance = forms.CharField(label="评分标准", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ValuesForm(InvalidMarkMixin, StyledFormMixin, forms.Form):
    """One input per indicator: ``value_<id>`` (number) or ``text_<id>`` (qualitative), plus ``note_<id>``."""

    def __init__(self, *args, values, editable: bool = True, **kwargs):
        initial = {}
        for v in values:
            if v.indicator.direction == FiscalIndicator.Direction.QUALITATIVE:
                initial[f"text_{v.indicator_id}"] = v.text_value
            else:
                initial[f"value_{v.indicator_id}"] = "" if v.value is None else f"{v.value.normalize():f}"
            initial[f"note_{v.indicator_id}"] = v.note
        super().__init__(*args, initial=initial, **kwargs)
        for v in values:
            i = v.indicator
            if i.direction == FiscalIndicator.Direction.QUALITATIVE:
                self.fields[f"text_{i.pk}"] = forms.CharField(
                    label=i.name, required=False, widget=forms.Textarea(attrs={"rows": 2})
                )
            else:
                self.fields[f"value_{i.pk}"] = forms.CharField(
                    label=i.name, required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"})
                )
            self.fields[f"note_{i.pk}"] = forms.CharField(
                label=f"{i.name}数据说明",
                required=False,
                widget=forms.TextInput(attrs={"placeholder": "数据来源/说明"}),
            )
        if not editable:
            for f in self.fields.values():
                f.disabled = True
        _style(self)
        self.values = values

    def entries(self) -> dict:
        data = self.cleaned_data
        return {
            v.indicator_id: {
                "value": data.get(f"value_{v.indicator_id}", ""),
                "text_value": data.get(f"text_{v.indicator_id}", ""),
                "note": data.get(f"note_{v.indicator_id}", ""),
            }
            for v in self.values
        }

    def rows(self):
        """(value row, main field, note field) for the template, in frame order."""
        for v in self.values:
            main = f"text_{v.indicator_id}" if v.indicator.direction == "qualitative" else f"value_{v.indicator_id}"
            yield v, self[main], self[f"note_{v.indicator_id}"]


class ReturnForm(InvalidMarkMixin, StyledFormMixin, forms.Form):
    return_comment = forms.CharField(label="退回意见", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ScoreForm(InvalidMarkMixin, StyledFormMixin, forms.Form):
    """``score_<id>`` and ``comment_<id>`` per indicator, and the overall ``comment``."""

    def __init__(self, *args, values, suggestions: dict, editable: bool = True, rescoring: bool = False, **kwargs):
        initial = {"comment": kwargs.pop("comment", "")}
        for v in values:
            suggested = suggestions.get(v.indicator_id)
            score = v.score if v.score is not None else suggested
            initial[f"score_{v.indicator_id}"] = "" if score is None else f"{score:.2f}"
            initial[f"comment_{v.indicator_id}"] = v.comment
        super().__init__(*args, initial=initial, **kwargs)
        for v in values:
            self.fields[f"score_{v.indicator_id}"] = forms.CharField(
                label=f"{v.indicator.name}得分", required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"})
            )
            self.fields[f"comment_{v.indicator_id}"] = forms.CharField(
                label=f"{v.indicator.name}评分意见", required=False
            )
        self.fields["comment"] = forms.CharField(
            label="市财政局评价意见", required=False, widget=forms.Textarea(attrs={"rows": 3})
        )
        if rescoring:
            self.fields["reason"] = forms.CharField(
                label="重新评分理由",
                required=False,
                max_length=500,
                widget=forms.Textarea(attrs={"rows": 2, "placeholder": "该区市已评分，修改得分须写明理由"}),
            )
        if not editable:  # published, or not yet reported: the page shows the scores read-only
            for f in self.fields.values():
                f.disabled = True
        self.values, self.suggestions = values, suggestions
        _style(self)

    def scores(self) -> dict:
        data = self.cleaned_data
        return {
            v.indicator_id: (data.get(f"score_{v.indicator_id}", ""), data.get(f"comment_{v.indicator_id}", ""))
            for v in self.values
        }

    def rows(self):
        for v in self.values:
            yield (
                v,
                self.suggestions.get(v.indicator_id),
                self[f"score_{v.indicator_id}"],
                self[f"comment_{v.indicator_id}"],
            )


class PublishForm(InvalidMarkMixin, StyledFormMixin, forms.Form):
    summary = forms.CharField(label="总体评价意见", required=False, widget=forms.Textarea(attrs={"rows": 3}))
