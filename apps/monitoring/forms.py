from datetime import date

from django import forms

from apps.core.forms import StyledFormMixin
from apps.orgs.models import Organization

from .models import KeyMonitoring, MonitoringReport


class RoundOpenForm(StyledFormMixin, forms.Form):
    data_as_of = forms.DateField(
        label="数据截止日期",
        initial=lambda: date(date.today().year, 7, 31),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "数据截止日期格式不正确，请按 2026-07-31 的格式填写。"},
    )
    due_on = forms.DateField(
        label="报送截止日期",
        initial=lambda: date(date.today().year, 8, 15),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "报送截止日期格式不正确，请按 2026-08-15 的格式填写。"},
    )
    tolerance_points = forms.DecimalField(
        label="执行进度容差（百分点）", initial=15, min_value=0, max_value=100, decimal_places=2
    )


class ReportFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(
        label="项目", required=False, max_length=100, widget=forms.TextInput(attrs={"placeholder": "项目名称或编码"})
    )
    status = forms.ChoiceField(
        label="状态",
        required=False,
        choices=[("", "全部状态"), *MonitoringReport.Status.choices, ("overdue", "已逾期")],
    )
    department = forms.ModelChoiceField(
        label="部门", queryset=Organization.objects.none(), required=False, empty_label="全部部门"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Organization.objects.restrict(user, "monitoring.view").filter(
            kind=Organization.Kind.DEPARTMENT
        )


class KeyMeasureForm(StyledFormMixin, forms.Form):
    measure = forms.ChoiceField(
        label="处理措施", choices=KeyMonitoring.Measure.choices, error_messages={"required": "请选择处理措施。"}
    )
    reason = forms.CharField(
        label="理由", widget=forms.Textarea(attrs={"rows": 2}), error_messages={"required": "请填写处理措施的理由。"}
    )
