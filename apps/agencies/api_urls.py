"""This app's API routes, mounted under /api/v1/ by qdperf/urls.py."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()

urlpatterns = router.urls
