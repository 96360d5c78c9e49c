"""Pages of 整改 (joined in urls.py, namespace ``results``, mounted at /results/)."""

from django.urls import path

from . import views_rectification as v

urlpatterns = [
    path("rectifications/", v.RectificationListView.as_view(), name="rectification_list"),
    path("rectifications/export/", v.RectificationExportView.as_view(), name="rectification_export"),
    path("rectifications/new/", v.RaiseManualView.as_view(), name="rectification_create"),
    path(
        "rectifications/new/self-evaluation/<int:pk>/",
        v.RaiseFromSelfEvaluationView.as_view(),
        name="rectification_create_self",
    ),
    path(
        "rectifications/new/key-evaluation/<int:pk>/",
        v.RaiseFromKeyEvaluationView.as_view(),
        name="rectification_create_key",
    ),
    path(
        "rectifications/new/key-monitoring/<int:pk>/",
        v.RaiseFromKeyMonitoringView.as_view(),
        name="rectification_create_monitoring",
    ),
    path("rectifications/<int:pk>/", v.RectificationDetailView.as_view(), name="rectification_detail"),
    path("rectifications/<int:pk>/save/", v.RectificationSaveView.as_view(), name="rectification_save"),
    path("rectifications/<int:pk>/<str:step>/", v.RectificationStepView.as_view(), name="rectification_step"),
]
