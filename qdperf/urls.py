from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from apps.accounts.api import MeView, TokenObtainView, UserViewSet
from apps.core.api import AuditEventViewSet
from apps.core.api_jobs import JobViewSet
from apps.core.views import favicon, healthz
from apps.orgs.api import OrganizationViewSet, WorkCalendarViewSet

router = DefaultRouter()
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("calendar", WorkCalendarViewSet, basename="calendar")
router.register("users", UserViewSet, basename="user")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("jobs", JobViewSet, basename="job")

api_v1 = [
    path("me/", MeView.as_view(), name="me"),
    path("auth/token/", TokenObtainView.as_view(), name="token"),
    path("", include(router.urls)),
    path("", include("apps.funds.api_urls")),
    path("", include("apps.indicators.api_urls")),
    path("", include("apps.assessments.api_urls")),
    path("", include("apps.targets.api_urls")),
    path("", include("apps.monitoring.api_urls")),
    path("", include("apps.evaluations.api_urls")),
    path("", include("apps.agencies.api_urls")),
    path("", include("apps.results.api_urls")),
    path("", include("apps.attachments.api_urls")),
    path("", include("apps.reminders.api_urls")),
    path("", include("apps.supervision.api_urls")),
]

urlpatterns = [
    path("", include("apps.core.urls")),
    path("accounts/", include("apps.accounts.urls")),
    path("orgs/", include("apps.orgs.urls")),
    path("funds/", include("apps.funds.urls")),
    path("indicators/", include("apps.indicators.urls")),
    path("assessments/", include("apps.assessments.urls")),
    path("targets/", include("apps.targets.urls")),
    path("monitoring/", include("apps.monitoring.urls")),
    path("evaluations/", include("apps.evaluations.urls")),
    path("agencies/", include("apps.agencies.urls")),
    path("results/", include("apps.results.urls")),
    path("public/", include("apps.results.urls_public")),
    path("jobs/", include("apps.core.urls_jobs")),
    path("attachments/", include("apps.attachments.urls")),
    path("notifications/", include("apps.reminders.urls_notifications")),
    path("reminders/", include("apps.reminders.urls")),
    path("supervision/", include("apps.supervision.urls")),
    path("api/v1/", include((api_v1, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
]

handler403 = "apps.core.views.permission_denied"
handler404 = "apps.core.views.page_not_found"
