"""API of the assessment part of 监督考核 under /api/v1/ (namespace ``api``)."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()
