from django.urls import path

from . import excel_urls, views

app_name = "monitoring"

urlpatterns = [
    path("", views.RoundListView.as_view(), name="round_list"),
    path("rounds/<int:pk>/", views.RoundDetailView.as_view(), name="round_detail"),
    path("reports/<int:pk>/", views.ReportDetailView.as_view(), name="report_detail"),
    path("reports/<int:pk>/edit/", views.ReportEditView.as_view(), name="report_edit"),
    path("reports/<int:pk>/<str:action>/", views.ReportTransitionView.as_view(), name="report_transition"),
    path("warnings/", views.WarningListView.as_view(), name="warning_list"),
    path("key/", views.KeyMonitoringView.as_view(), name="key_list"),
    path("key/<int:pk>/measure/", views.KeyMeasureView.as_view(), name="key_measure"),
    *excel_urls.urlpatterns,
]
