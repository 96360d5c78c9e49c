from django.urls import path

from . import views

app_name = "assessments"

urlpatterns = [
    path("", views.AssessmentListView.as_view(), name="assessment_list"),
    path("new/<int:fund_pk>/", views.AssessmentCreateView.as_view(), name="assessment_create"),
    path("<int:pk>/", views.AssessmentDetailView.as_view(), name="assessment_detail"),
    path("<int:pk>/edit/", views.AssessmentEditView.as_view(), name="assessment_edit"),
    # POST only: submit / assign / opinion / complete / return
    path("<int:pk>/<slug:action>/", views.AssessmentActionView.as_view(), name="assessment_action"),
]
