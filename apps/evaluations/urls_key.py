"""Routes of this part of the evaluations app (joined in urls.py)."""

urlpatterns: list = []
