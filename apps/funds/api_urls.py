"""This app's API routes, mounted under /api/v1/ by qdperf/urls.py."""

from rest_framework.routers import SimpleRouter

from .api import SpecialFundViewSet

router = SimpleRouter()
router.register("funds", SpecialFundViewSet, basename="fund")

urlpatterns = router.urls
