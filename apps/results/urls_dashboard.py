"""Pages of dashboard (stub, filled in by the part's author)."""

urlpatterns: list = []
