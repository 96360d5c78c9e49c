"""Pages of the dashboards (分析看板), under /results/ (namespace ``results``)."""

from django.urls import path

from . import views_dashboard as views

urlpatterns = [
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("dashboard/compare/", views.CompareView.as_view(), name="dashboard_compare"),
    path("dashboard/excel/<slug:key>/", views.PanelExcelView.as_view(), name="dashboard_excel"),
]
