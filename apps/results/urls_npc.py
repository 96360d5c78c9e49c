"""Pages of 报人大 (mounted under /results/, namespace ``results``)."""

from django.urls import path

from . import views_npc as views

urlpatterns = [
    path("npc/", views.NpcExportView.as_view(), name="npc_export"),
]
