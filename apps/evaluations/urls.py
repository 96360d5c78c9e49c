"""Pages of 绩效评价, one module per part: self-evaluation, key evaluations, Excel and rules."""

from . import urls_excel, urls_key, urls_self

app_name = "evaluations"

urlpatterns = [*urls_self.urlpatterns, *urls_key.urlpatterns, *urls_excel.urlpatterns]
