"""Pages of the fiscal part of 监督考核 (mounted under /supervision/, namespace ``supervision``)."""

from django.urls import path

from . import views_fiscal as views

urlpatterns = [
    path("fiscal/", views.FiscalListView.as_view(), name="fiscal_list"),
    path("fiscal/new/", views.FiscalCreateView.as_view(), name="fiscal_create"),
    path("fiscal/<int:pk>/", views.FiscalDetailView.as_view(), name="fiscal_detail"),
    path("fiscal/<int:pk>/ranking/", views.FiscalRankingView.as_view(), name="fiscal_ranking"),
    path("fiscal/<int:pk>/export/", views.FiscalExportView.as_view(), name="fiscal_export"),
    path("fiscal/indicators/<int:pk>/", views.FiscalIndicatorEditView.as_view(), name="fiscal_indicator_edit"),
    path("fiscal/submissions/<int:pk>/", views.FiscalSubmissionView.as_view(), name="fiscal_submission"),
    path("fiscal/submissions/<int:pk>/score/", views.FiscalScoreView.as_view(), name="fiscal_score"),
]
