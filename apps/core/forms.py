from django import forms

from .models import AuditEvent


class StyledFormMixin:
    """Bootstrap classes on every widget, so templates render fields uniformly."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.label_suffix = ""
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
                continue
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
            if isinstance(widget, forms.DateInput) and widget.input_type == "date":
                # A date picker only accepts ISO dates; zh-hans would render 2026/08/15 and show it empty.
                widget.format = "%Y-%m-%d"


class AuditFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(label="关键字", required=False, max_length=100)
    kind = forms.ChoiceField(label="类型", required=False, choices=[("", "全部类型"), *AuditEvent.Kind.choices])
    date_from = forms.DateField(label="起始日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "截止日期不能早于起始日期。")
        return data
