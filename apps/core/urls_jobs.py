"""Background job progress and result download."""

app_name = "jobs"

urlpatterns: list = []
