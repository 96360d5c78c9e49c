"""API of dashboard under /api/v1/ (stub, filled in by the part's author)."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()
