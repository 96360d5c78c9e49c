from django import forms

from apps.core.forms import StyledFormMixin
from apps.orgs.models import Organization

from .models import TargetStatus


class TargetHeaderForm(StyledFormMixin, forms.Form):
    long_term_goal = forms.CharField(label="中长期目标", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    annual_goal = forms.CharField(label="年度目标", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ReturnForm(StyledFormMixin, forms.Form):
    comment = forms.CharField(
        label="退回意见", widget=forms.Textarea(attrs={"rows": 2}), error_messages={"required": "请填写退回意见。"}
    )
    # Optional: the unit's reminders follow it; the detail page proposes selectors.resubmit_default.
    resubmit_by = forms.DateField(
        label="重新报送期限",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "重新报送期限：请填写有效的日期，如 2026-12-01。"},
    )


class AdjustForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(
        label="调整原因", widget=forms.Textarea(attrs={"rows": 2}), error_messages={"required": "请填写调整原因。"}
    )


class QueueFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(
        label="项目名称/编码",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "项目名称或编码"}),
    )
    department = forms.ModelChoiceField(
        label="部门", queryset=Organization.objects.none(), required=False, empty_label="全部部门"
    )
    status = forms.ChoiceField(
        label="审核环节",
        required=False,
        choices=[
            ("", "全部环节"),
            (TargetStatus.DEPT_REVIEW, "待部门审核"),
            (TargetStatus.SECTOR_REVIEW, "待业务处室审核"),
            (TargetStatus.PERF_REVIEW, "待绩效处审核"),
        ],
    )
    waiting_days = forms.IntegerField(
        label="等待天数≥",
        required=False,
        min_value=0,
        max_value=365,
        widget=forms.NumberInput(attrs={"placeholder": "等待天数 ≥"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Organization.objects.restrict(user, "target.view").filter(
            kind=Organization.Kind.DEPARTMENT
        )


class TargetFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(
        label="项目名称/编码",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "项目名称或编码"}),
    )
    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *TargetStatus.choices])
