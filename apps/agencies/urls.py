"""Pages of the agency and expert registry, assignments and appraisals."""

app_name = "agencies"

urlpatterns: list = []
