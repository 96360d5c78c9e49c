"""This app's API routes, mounted under /api/v1/ by qdperf/urls.py."""

from rest_framework.routers import SimpleRouter

from .api import PerformanceTargetViewSet

router = SimpleRouter()
router.register("targets", PerformanceTargetViewSet, basename="target")

urlpatterns = router.urls
