from django import forms

from apps.core.forms import StyledFormMixin

from .models import Organization, Region, WorkCalendar


class OrganizationFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(label="名称/编码", required=False, max_length=100)
    region = forms.ModelChoiceField(label="区域", queryset=Region.objects.all(), required=False, empty_label="全部区域")
    kind = forms.ChoiceField(label="类型", required=False, choices=[("", "全部类型"), *Organization.Kind.choices])


class CalendarFilterForm(StyledFormMixin, forms.Form):
    region = forms.ModelChoiceField(label="区域", queryset=Region.objects.all(), required=False, empty_label="全部区域")


class CalendarEntryForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = WorkCalendar
        fields = ["starts_on", "due_on", "note"]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "due_on": forms.DateInput(attrs={"type": "date"}),
        }
        error_messages = {
            "starts_on": {"invalid": "开始日期格式不正确，请按 2026-08-01 的格式填写。"},
            "due_on": {
                "invalid": "截止日期格式不正确，请按 2026-08-15 的格式填写。",
                "required": "请填写截止日期。",
            },
        }
