from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpResponsePermanentRedirect, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import TemplateView

from . import permissions, todo, years
from .forms import AuditFilterForm
from .selectors import audit_event_list
from .views_mixins import ActionRequiredMixin, htmx_template


@login_required
def home(request):
    user = request.user
    may_work = permissions.has_action(user, "todo.view")
    return render(
        request,
        "core/home.html",
        {
            "may_work": may_work,
            "todos": todo.todos_for(user, years.selected_year(request)) if may_work else [],
        },
    )


@login_required
@require_POST
def fiscal_year_switch(request):
    try:
        year = int(request.POST.get("year", ""))
    except ValueError:
        year = None
    if year in {fy.year for fy in years.fiscal_years(request)}:
        request.session[years.SESSION_KEY] = year
    next_url = request.POST.get("next") or reverse("core:home")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        next_url = reverse("core:home")
    return HttpResponseRedirect(next_url)


class AuditEventListView(ActionRequiredMixin, TemplateView):
    """The searchable audit trail (安全审计员: everything; 审计局: its region). Read-only."""

    required_action = "audit.view"
    page_size = 50

    def get_template_names(self):
        return [htmx_template(self.request, "core/audit_list.html", "core/partials/audit_table.html")]

    def get_context_data(self, **kwargs):
        form = AuditFilterForm(self.request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        events = audit_event_list(user=self.request.user, **filters)
        page = Paginator(events, self.page_size).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(form=form, page=page, query=query.urlencode(), **kwargs)


@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links: answer instead of a 404 on every page.
    Resolved per request, so a hashed (manifest) static name is looked up only once it exists."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


@require_GET
@never_cache
def healthz(request):
    """Liveness for load balancers and compose: database always, Redis when configured."""
    status = {"database": "ok", "redis": "not configured"}
    healthy = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - report any failure as unhealthy
        status["database"] = f"error: {exc.__class__.__name__}"
        healthy = False
    if settings.REDIS_URL:
        import redis

        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
            status["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            status["redis"] = f"error: {exc.__class__.__name__}"
            healthy = False
    status["status"] = "ok" if healthy else "error"
    return JsonResponse(status, status=200 if healthy else 503)


def permission_denied(request, exception=None):
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", status=403)
