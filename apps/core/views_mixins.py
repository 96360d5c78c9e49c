"""Thin view helpers: every page names the action it serves; the policy decides."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied

from . import permissions


class ActionRequiredMixin(LoginRequiredMixin):
    """403 unless the user's roles grant ``required_action``; rows then come from ``restrict``."""

    required_action: str = ""
    model = None

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not permissions.has_action(request.user, self.required_action):
            raise PermissionDenied("您的角色无权使用此功能。如需开通，请联系本单位系统管理员。")
        return super().dispatch(request, *args, **kwargs)

    def scoped(self, action: str | None = None):
        return self.model.objects.restrict(self.request.user, action or self.required_action)


def htmx_template(request, full: str, partial: str) -> str:
    """The partial for htmx requests (in-page updates), the full page otherwise."""
    return partial if getattr(request, "htmx", False) else full


def add_service_errors(form, exc) -> None:
    """Put a service's ``ValidationError`` on the form, by field where the form has that field."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
