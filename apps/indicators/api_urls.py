"""This app's API routes, mounted under /api/v1/ by qdperf/urls.py."""

from rest_framework.routers import SimpleRouter

from .api import LibraryIndicatorViewSet

router = SimpleRouter()
router.register("indicators", LibraryIndicatorViewSet, basename="library-indicator")

urlpatterns = router.urls
