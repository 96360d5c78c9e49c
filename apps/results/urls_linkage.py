"""Pages of linkage (stub, filled in by the part's author)."""

urlpatterns: list = []
