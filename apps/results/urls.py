"""Pages of 结果应用, one module per part."""

from . import urls_dashboard, urls_disclosure, urls_linkage, urls_npc, urls_rectification

app_name = "results"

urlpatterns = [
    *urls_rectification.urlpatterns,
    *urls_linkage.urlpatterns,
    *urls_disclosure.urlpatterns,
    *urls_npc.urlpatterns,
    *urls_dashboard.urlpatterns,
]
