"""Pages of disclosure (stub, filled in by the part's author)."""

urlpatterns: list = []
