"""This app's API routes, mounted under /api/v1/ by qdperf/urls.py."""

from django.urls import path

from .api import AttachmentDownloadView

urlpatterns = [path("attachments/<int:pk>/download/", AttachmentDownloadView.as_view(), name="attachment-download")]
