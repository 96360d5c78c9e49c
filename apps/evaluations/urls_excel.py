"""Routes of this part of the evaluations app (joined in urls.py): Excel, summaries, scoring rules."""

from django.urls import path

from . import excel_views, rules_views

urlpatterns = [
    path("excel/self/<int:pk>/", excel_views.SelfFormExportView.as_view(), name="excel_self_form"),
    path("excel/import/", excel_views.FillImportView.as_view(), name="excel_import"),
    path("excel/import/template/", excel_views.FillTemplateView.as_view(), name="excel_template"),
    path("summary/", excel_views.SummaryView.as_view(), name="summary_page"),
    path("summary/export/", excel_views.SummaryExportView.as_view(), name="summary_export"),
    path("rules/", rules_views.RulesView.as_view(), name="rules"),
]
