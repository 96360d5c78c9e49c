"""API routes of this part of the evaluations app (joined in api_urls.py)."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()
