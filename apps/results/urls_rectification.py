"""Pages of rectification (stub, filled in by the part's author)."""

urlpatterns: list = []
