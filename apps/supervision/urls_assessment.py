"""Pages of the assessment part of 监督考核 (mounted under /supervision/, namespace ``supervision``)."""

from django.urls import path

from . import views_assessment as views

urlpatterns = [
    path("assessments/", views.AssessmentListView.as_view(), name="assessment_list"),
    path("assessments/new/", views.AssessmentCreateView.as_view(), name="assessment_create"),
    path("assessments/<int:pk>/", views.AssessmentDetailView.as_view(), name="assessment_detail"),
    path("assessments/<int:pk>/compute/", views.AssessmentComputeView.as_view(), name="assessment_compute"),
    path("assessments/<int:pk>/publish/", views.AssessmentPublishView.as_view(), name="assessment_publish"),
    path("assessments/<int:pk>/withdraw/", views.AssessmentWithdrawView.as_view(), name="assessment_withdraw"),
    path("assessments/<int:pk>/items/new/", views.ItemFormView.as_view(), name="assessment_item_create"),
    path("assessments/<int:pk>/items/<int:item_pk>/", views.ItemFormView.as_view(), name="assessment_item_edit"),
    path(
        "assessments/<int:pk>/items/<int:item_pk>/delete/",
        views.ItemDeleteView.as_view(),
        name="assessment_item_delete",
    ),
    path("assessments/<int:pk>/bodies/<int:body_pk>/", views.BodyView.as_view(), name="assessment_body"),
    path("assessments/<int:pk>/notice/", views.NoticeView.as_view(), name="assessment_notice"),
    path("assessments/<int:pk>/export.xlsx", views.ExportView.as_view(), name="assessment_export"),
]
