"""Pages of npc (stub, filled in by the part's author)."""

urlpatterns: list = []
