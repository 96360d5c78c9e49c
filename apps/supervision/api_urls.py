"""This app's API routes, mounted under /api/v1/ by qdperf/urls.py."""

from .api_areas import router as areas_router
from .api_assessment import router as assessment_router
from .api_audit import router as audit_router
from .api_fiscal import router as fiscal_router

urlpatterns = [
    *assessment_router.urls,
    *fiscal_router.urls,
    *audit_router.urls,
    *areas_router.urls,
]
