from axes.models import AccessAttempt
from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.db.models import Sum

from apps.core.forms import StyledFormMixin
from apps.orgs.models import Organization

from .models import SecurityPolicy
from .roles import PROTECTED_ROLES, Role


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码不正确。",
        "inactive": "该账号已停用，请联系本单位系统管理员。",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "用户名"
        self.fields["password"].label = "密码"
        self.fields["username"].widget.attrs.update({"autofocus": True, "placeholder": "用户名"})
        self.fields["password"].widget.attrs.update({"placeholder": "密码"})

    def clean(self):
        try:
            return super().clean()
        except ValidationError as exc:
            if getattr(exc, "code", "") != "invalid_login":
                raise
            raise ValidationError(self._invalid_login_message(), code="invalid_login") from exc

    def _invalid_login_message(self) -> str:
        policy = SecurityPolicy.current()
        username = self.cleaned_data.get("username") or ""
        failures = AccessAttempt.objects.filter(username=username).aggregate(n=Sum("failures_since_start"))["n"] or 0
        left = max(policy.lockout_attempts - failures, 0)
        return (
            f"用户名或密码不正确。再失败 {left} 次，账号将被锁定 {policy.lockout_minutes} 分钟。"
            if left
            else "用户名或密码不正确。"
        )


class PasswordChangeForm(StyledFormMixin, forms.Form):
    old_password = forms.CharField(
        label="原密码", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    new_password1 = forms.CharField(
        label="新密码",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html,
    )
    new_password2 = forms.CharField(
        label="确认新密码", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password2") and data["new_password1"] != data["new_password2"]:
            self.add_error("new_password2", "两次输入的新密码不一致。")
        return data


class NewPasswordForm(StyledFormMixin, forms.Form):
    """A password chosen for someone else (reset by the system administrator)."""

    new_password1 = forms.CharField(label="新密码", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    new_password2 = forms.CharField(
        label="确认新密码", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password2") and data["new_password1"] != data["new_password2"]:
            self.add_error("new_password2", "两次输入的新密码不一致。")
        return data


class UserForm(StyledFormMixin, forms.Form):
    """Account fields the system administrator maintains; choices limited to its own region."""

    username = forms.RegexField(
        label="用户名",
        max_length=150,
        regex=r"^[A-Za-z0-9_.@-]+$",
        error_messages={"invalid": "用户名只能包含字母、数字以及 _ . @ -。"},
    )
    real_name = forms.CharField(label="姓名", max_length=50)
    phone = forms.CharField(label="手机号", max_length=11, required=False)
    organization = forms.ModelChoiceField(label="所属机构", queryset=Organization.objects.none())
    roles = forms.MultipleChoiceField(
        label="角色",
        choices=[(r.value, r.label) for r in Role if r not in PROTECTED_ROLES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    assigned_departments = forms.ModelMultipleChoiceField(
        label="分管部门（仅财政业务处室审核）",
        queryset=Organization.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    is_active = forms.BooleanField(label="启用", required=False, initial=True)

    def __init__(self, *args, actor, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        orgs = Organization.objects.restrict(actor, "user.manage").select_related("region").order_by("path")
        self.fields["organization"].queryset = orgs
        self.fields["assigned_departments"].queryset = orgs.filter(kind=Organization.Kind.DEPARTMENT)
        if editing:
            self.fields["username"].disabled = True


class UserCreateForm(UserForm, NewPasswordForm):
    pass


class SecurityPolicyForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = SecurityPolicy
        fields = SecurityPolicy.FIELDS
