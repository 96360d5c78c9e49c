"""API of the notifications part (written with issue 7)."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()
urlpatterns: list = []
