"""This app's API routes, mounted under /api/v1/ by qdperf/urls.py."""

from .api_notifications import router as notifications_router
from .api_notifications import urlpatterns as notifications_extra
from .api_reminders import router as reminders_router
from .api_reminders import urlpatterns as reminders_extra

urlpatterns = [*notifications_extra, *notifications_router.urls, *reminders_extra, *reminders_router.urls]
