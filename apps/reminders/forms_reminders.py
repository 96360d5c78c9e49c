"""Forms of finance's reminder pages. They carry what was typed; the services check it (one set of
Chinese messages for the pages and the API)."""

from __future__ import annotations

from django import forms

from apps.core.forms import StyledFormMixin
from apps.orgs.models import Organization

from .models import Reminder
from .selectors_reminders import STEP_LABELS, VIEW

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _date(label: str) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=DATE_WIDGET,
        error_messages={"invalid": f"{label}格式不正确，请按 2026-11-25 的格式填写。"},
    )


class ReminderFilterForm(StyledFormMixin, forms.Form):
    date_from = _date("起始日期")
    date_to = _date("截止日期")
    department = forms.ModelChoiceField(
        label="部门", queryset=Organization.objects.none(), required=False, empty_label="全部部门"
    )
    step = forms.ChoiceField(label="业务环节", required=False, choices=[("", "全部环节"), *STEP_LABELS.items()])
    reason = forms.ChoiceField(label="提醒原因", required=False, choices=[("", "全部原因"), *Reminder.Reason.choices])
    q = forms.CharField(
        label="接收人", required=False, max_length=50, widget=forms.TextInput(attrs={"placeholder": "接收人姓名或账号"})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = (
            Organization.objects.restrict(user, VIEW).filter(kind=Organization.Kind.DEPARTMENT).order_by("path")
        )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "截止日期不能早于起始日期。")
        return data

    def filters(self) -> dict:
        """The valid filters (an invalid one is ignored, the others apply)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "department": data.get("department"),
            "step": data.get("step", ""),
            "reason": data.get("reason", ""),
            "q": (data.get("q") or "").strip(),
        }


class ReminderRuleForm(StyledFormMixin, forms.Form):
    """Raw fields: the numbers are checked by ``services_reminders.clean_rule`` (messages name the field)."""

    enabled = forms.BooleanField(label="启用催办提醒", required=False)
    days_before = forms.CharField(
        label="提前提醒天数",
        required=False,
        max_length=40,
        help_text="到期前多少天提醒，逗号分隔，如 7,3,1；留空表示不提前提醒",
    )
    on_due_day = forms.BooleanField(label="到期当日提醒", required=False)
    escalate_department_after = forms.CharField(
        label="逾期多少天后提醒部门审核人", required=False, max_length=5, help_text="0 表示不升级到部门"
    )
    escalate_finance_after = forms.CharField(
        label="逾期多少天后提醒财政审核人", required=False, max_length=5, help_text="0 表示不升级到财政"
    )
    stop_after = forms.CharField(
        label="逾期多少天后不再提醒",
        required=False,
        max_length=5,
        help_text="更久的逾期事项不再发送提醒；0 表示一直提醒",
    )

    @classmethod
    def initial_from(cls, rule) -> dict:
        return {name: getattr(rule, name) for name in cls.base_fields}


class ResendForm(StyledFormMixin, forms.Form):
    comment = forms.CharField(
        label="说明",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "可选，如：已更正邮箱地址"}),
    )
