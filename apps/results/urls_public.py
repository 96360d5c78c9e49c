"""Public pages (no login) at /public/ and their JSON at /public/api/ (stub, filled in by the disclosure part)."""

app_name = "public"

urlpatterns: list = []
