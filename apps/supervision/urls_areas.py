"""Pages of the areas part of 监督考核 (mounted under /supervision/, namespace ``supervision``)."""

from django.urls import path

from . import views_areas as views

urlpatterns = [
    path("areas/", views.AreaSummaryView.as_view(), name="area_summary"),
    path("areas/export/", views.AreaSummaryExportView.as_view(), name="area_summary_export"),
    path("areas/<slug:area>/", views.AreaDetailView.as_view(), name="area_detail"),
    path("areas/<slug:area>/export/", views.AreaFundsExportView.as_view(), name="area_export"),
]
