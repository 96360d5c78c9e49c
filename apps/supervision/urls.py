"""Pages of 监督考核, one module per part."""

from . import urls_areas, urls_assessment, urls_audit, urls_fiscal

app_name = "supervision"

urlpatterns = [
    *urls_assessment.urlpatterns,
    *urls_fiscal.urlpatterns,
    *urls_audit.urlpatterns,
    *urls_areas.urlpatterns,
]
