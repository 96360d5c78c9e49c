"""Excel routes of 双监控, to be included inside the ``monitoring`` namespace (no ``app_name`` here)."""

from django.urls import path

from . import excel_views as views

urlpatterns = [
    path("rounds/<int:pk>/import-execution/", views.ExecutionImportView.as_view(), name="execution_import"),
    path("rounds/<int:pk>/execution-template.xlsx", views.ExecutionTemplateView.as_view(), name="execution_template"),
    path("rounds/<int:pk>/summary.xlsx", views.SummaryExportView.as_view(), name="summary_export_xlsx"),
    path("reports/<int:pk>/export.xlsx", views.ReportExportView.as_view(), name="report_export_xlsx"),
]
