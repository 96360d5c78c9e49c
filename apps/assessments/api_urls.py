"""This app's API routes, mounted under /api/v1/ by qdperf/urls.py."""

from rest_framework.routers import SimpleRouter

from .api import ExAnteAssessmentViewSet

router = SimpleRouter()
router.register("assessments", ExAnteAssessmentViewSet, basename="assessment")

urlpatterns = router.urls
