from django import forms

from apps.core.forms import StyledFormMixin

from .models import FiscalYear, Organization, Region, WorkCalendar
from .services import copy_target_regions


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


class CalendarCopyForm(StyledFormMixin, forms.Form):
    """复制市本级工作日历到区市: the year, the districts (or all of them), overwrite or only fill."""

    fiscal_year = forms.ModelChoiceField(
        label="预算年度",
        queryset=FiscalYear.objects.filter(is_closed=False).order_by("-year"),
        empty_label=None,
        error_messages={"required": "请选择预算年度。", "invalid_choice": "预算年度不存在或已结账。"},
    )
    all_districts = forms.BooleanField(label="全部区市", required=False)
    regions = forms.ModelMultipleChoiceField(
        label="区市",
        queryset=Region.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        error_messages={"invalid_choice": "所选区市不存在。", "invalid_pk_value": "所选区市不存在。"},
    )
    overwrite = forms.BooleanField(
        label="覆盖区市已设置的日期",
        required=False,
        help_text="不勾选时只补区市尚未设置的环节；勾选后区市自己设置的日期将被市本级的日期替换，请谨慎操作。",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["regions"].queryset = copy_target_regions().order_by("sort_order", "code")

    def clean(self):
        data = super().clean()
        if data.get("all_districts"):
            if data.get("regions"):  # both ticked: which one was meant is not ours to guess
                self.add_error("regions", "请在指定区市和全部区市中二选一。")
                return data
            data["regions"] = list(self.fields["regions"].queryset)
        elif not data.get("regions") and "regions" not in self.errors:
            self.add_error("regions", "请选择要复制到的区市，或勾选“全部区市”。")
        return data
