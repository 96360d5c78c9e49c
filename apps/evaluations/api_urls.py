"""This app's API routes, mounted under /api/v1/ by qdperf/urls.py."""

from .api_key import router as key_router
from .api_self import router as self_router

urlpatterns = [*self_router.urls, *key_router.urls]
