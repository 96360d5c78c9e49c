"""This app's API routes, mounted under /api/v1/ by qdperf/urls.py."""

from .api_dashboard import router as dashboard_router
from .api_disclosure import router as disclosure_router
from .api_linkage import router as linkage_router
from .api_npc import router as npc_router
from .api_rectification import router as rectification_router

urlpatterns = [
    *rectification_router.urls,
    *linkage_router.urls,
    *disclosure_router.urls,
    *npc_router.urls,
    *dashboard_router.urls,
]
