from django.urls import path

from . import views

app_name = "targets"

urlpatterns = [
    path("", views.TargetListView.as_view(), name="target_list"),
    path("review/", views.ReviewQueueView.as_view(), name="review_queue"),
    path("review/batch-approve/", views.BatchApproveView.as_view(), name="batch_approve"),
    path("library-picker/", views.LibraryPickerView.as_view(), name="library_picker"),
    path("start/fund/<int:fund_pk>/", views.TargetStartView.as_view(), name="target_start"),
    path("start/department/", views.DepartmentTargetStartView.as_view(), name="department_target_start"),
    path("<int:pk>/", views.TargetDetailView.as_view(), name="target_detail"),
    path("<int:pk>/edit/", views.TargetEditView.as_view(), name="target_edit"),
    path("<int:pk>/quality/", views.QualityCheckView.as_view(), name="target_quality"),
    path("<int:pk>/compare/", views.TargetCompareView.as_view(), name="target_compare"),
    path("export.xlsx", views.TargetListExportView.as_view(), name="target_list_xlsx"),
    path("<int:pk>/export.xlsx", views.TargetExportView.as_view(), name="target_export_xlsx"),
    path("<int:pk>/import/", views.TargetImportView.as_view(), name="target_import"),
    path("<int:pk>/<str:action>/", views.TargetTransitionView.as_view(), name="target_transition"),
]
