"""Background job progress and result download."""

from django.urls import path

from . import views_jobs

app_name = "jobs"

urlpatterns = [
    path("", views_jobs.JobListView.as_view(), name="job_list"),
    path("<int:pk>/", views_jobs.JobDetailView.as_view(), name="job_detail"),
    path("<int:pk>/download/", views_jobs.JobDownloadView.as_view(), name="job_download"),
]
