"""This app's API routes, mounted under /api/v1/ by qdperf/urls.py."""

from rest_framework.routers import SimpleRouter

from .api import KeyMonitoringViewSet, MonitoringReportViewSet, MonitoringRoundViewSet, MonitoringWarningViewSet

router = SimpleRouter()
router.register("monitoring-rounds", MonitoringRoundViewSet, basename="monitoring-round")
router.register("monitoring-reports", MonitoringReportViewSet, basename="monitoring-report")
router.register("monitoring-warnings", MonitoringWarningViewSet, basename="monitoring-warning")
router.register("key-monitoring", KeyMonitoringViewSet, basename="key-monitoring")

urlpatterns = router.urls
