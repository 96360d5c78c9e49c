from axes.models import AccessAttempt
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_POST
from django.views.generic import FormView, TemplateView

from apps.core.views_mixins import ActionRequiredMixin, add_service_errors, htmx_template
from apps.reminders.forms_notifications import ChannelForm
from apps.reminders.selectors_notifications import channels_of

from . import services
from .forms import (
    LoginForm,
    NewPasswordForm,
    PasswordChangeForm,
    SecurityPolicyForm,
    UserCreateForm,
    UserForm,
)
from .models import SecurityPolicy, User
from .roles import Role


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return super().get_context_data(policy=SecurityPolicy.current(), **kwargs)


def lockout_response(request, original_response=None, credentials=None):
    """django-axes calls this when an account is locked: the login page, saying for how long."""
    policy = SecurityPolicy.current()
    until = timezone.localtime() + timezone.timedelta(minutes=policy.lockout_minutes)
    message = (
        f"连续登录失败 {policy.lockout_attempts} 次，账号已被锁定 {policy.lockout_minutes} 分钟，"
        f"请于 {until:%H:%M} 后再试。如需提前解锁，请联系本单位系统管理员。"
    )
    return render(
        request,
        "accounts/login.html",
        {"form": LoginForm(request), "lockout_message": message, "policy": policy},
        status=429,
    )


@login_required
def profile(request):
    from rest_framework.authtoken.models import Token

    channels = channels_of(request.user)
    return render(
        request,
        "accounts/profile.html",
        {
            "has_token": Token.objects.filter(user=request.user).exists(),
            # 提醒渠道: saved by notifications:channels_update (audited), back to this page.
            "channels": channels,
            "channel_form": ChannelForm(initial={"email": channels.email}),
        },
    )


@login_required
def password_change(request):
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_change_password(
                user=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
            )
        except ValidationError as exc:
            _password_errors(form, exc, field="new_password1")
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, "密码已修改。")
            return redirect("accounts:profile")
    return render(request, "accounts/password_change.html", {"form": form})


def _password_errors(form, exc, *, field: str) -> None:
    """Password validators raise field-less errors: they belong to the new-password field."""
    if hasattr(exc, "error_dict"):
        add_service_errors(form, exc)
    else:
        form.add_error(field, exc.messages)


@login_required
@require_POST
def token_issue(request):
    token = services.token_issue(user=request.user)
    messages.success(request, f"新的 API 令牌：{token.key}（请立即妥善保存，离开本页后不再显示）")
    return redirect("accounts:profile")


@login_required
@require_POST
def token_revoke(request):
    services.token_revoke(user=request.user)
    messages.success(request, "API 令牌已吊销。")
    return redirect("accounts:profile")


# --- Account management (系统管理员, own region) --------------------------------------------


class UserManageMixin(ActionRequiredMixin):
    required_action = "user.manage"
    model = User

    @cached_property
    def target(self) -> User:
        return get_object_or_404(
            self.scoped().select_related("organization__region").prefetch_related("groups", "assigned_departments"),
            pk=self.kwargs["pk"],
        )


def locked_usernames(usernames) -> set[str]:
    limit = SecurityPolicy.current().lockout_attempts
    return set(
        AccessAttempt.objects.filter(username__in=list(usernames))
        .values("username")
        .annotate(n=Sum("failures_since_start"))
        .filter(n__gte=limit)
        .values_list("username", flat=True)
    )


class UserListView(UserManageMixin, TemplateView):
    page_size = 50

    def get_template_names(self):
        return [htmx_template(self.request, "accounts/user_list.html", "accounts/partials/user_table.html")]

    def get_context_data(self, **kwargs):
        q = self.request.GET.get("q", "").strip()
        role = self.request.GET.get("role", "")
        users = self.scoped().select_related("organization").prefetch_related("groups")
        if q:
            users = users.filter(
                Q(username__icontains=q) | Q(real_name__icontains=q) | Q(organization__name__icontains=q)
            )
        if role in Role.values:
            users = users.filter(groups__name=role)
        page = Paginator(users.order_by("organization__path", "username"), self.page_size).get_page(
            self.request.GET.get("page")
        )
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(
            page=page,
            q=q,
            role=role,
            roles=Role.choices,
            locked=locked_usernames(u.username for u in page),
            query=query.urlencode(),
            **kwargs,
        )


class UserCreateView(UserManageMixin, FormView):
    template_name = "accounts/user_form.html"
    form_class = UserCreateForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "actor": self.request.user}

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            user = services.user_create(
                actor=self.request.user,
                username=data["username"],
                password=data["new_password1"],
                organization=data["organization"],
                roles=data["roles"],
                real_name=data["real_name"],
                phone=data["phone"],
                assigned_departments=data["assigned_departments"],
            )
        except ValidationError as exc:
            _password_errors(form, exc, field="new_password1")
            return self.form_invalid(form)
        messages.success(self.request, f"已创建账号“{user.username}”。")
        return redirect("accounts:user_edit", pk=user.pk)


class UserEditView(UserManageMixin, FormView):
    template_name = "accounts/user_form.html"
    form_class = UserForm

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "actor": self.request.user,
            "editing": True,
            "initial": {
                "username": self.target.username,
                "real_name": self.target.real_name,
                "phone": self.target.phone,
                "organization": self.target.organization,
                "roles": sorted(self.target.role_codes),
                "assigned_departments": list(self.target.assigned_departments.all()),
                "is_active": self.target.is_active,
            },
        }

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            services.user_update(
                actor=self.request.user,
                user=self.target,
                organization=data["organization"],
                roles=data["roles"],
                real_name=data["real_name"],
                phone=data["phone"],
                is_active=data["is_active"],
                assigned_departments=data["assigned_departments"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"已保存账号“{self.target.username}”。")
        return redirect("accounts:user_edit", pk=self.target.pk)

    def get_context_data(self, **kwargs):
        from apps.core.models import AuditEvent

        history = AuditEvent.objects.for_object(self.target).select_related("organization")[:20]
        return super().get_context_data(
            target=self.target,
            locked=self.target.username in locked_usernames([self.target.username]),
            password_form=NewPasswordForm(),
            history=history,
            **kwargs,
        )


class UserPasswordResetView(UserManageMixin, FormView):
    template_name = "accounts/user_password_reset.html"
    form_class = NewPasswordForm

    def form_valid(self, form):
        try:
            services.user_reset_password(
                actor=self.request.user, user=self.target, new_password=form.cleaned_data["new_password1"]
            )
        except ValidationError as exc:
            _password_errors(form, exc, field="new_password1")
            return self.form_invalid(form)
        messages.success(self.request, f"已重置“{self.target.username}”的密码，请通过安全渠道告知本人。")
        return redirect("accounts:user_edit", pk=self.target.pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(target=self.target, **kwargs)


class UserUnlockView(UserManageMixin, TemplateView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        target = self.target
        services.user_unlock(actor=request.user, user=target)
        messages.success(request, f"已解除“{target.username}”的登录锁定。")
        return redirect("accounts:user_edit", pk=target.pk)


class SecurityPolicyView(ActionRequiredMixin, FormView):
    """The security administrator (安全管理员) sets password, lock-out and session rules."""

    required_action = "policy.manage"
    template_name = "accounts/security_policy.html"
    form_class = SecurityPolicyForm

    def get_form_kwargs(self):
        policy = SecurityPolicy.objects.filter(pk=1).first() or SecurityPolicy(pk=1)
        return {**super().get_form_kwargs(), "instance": policy}

    def form_valid(self, form):
        try:
            services.security_policy_update(
                actor=self.request.user, **{name: form.cleaned_data[name] for name in SecurityPolicy.FIELDS}
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, "安全策略已保存，即时生效。")
        return redirect("accounts:security_policy")
