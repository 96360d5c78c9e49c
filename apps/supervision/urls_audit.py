"""Pages of audit supervision (mounted under /supervision/, namespace ``supervision``)."""

from django.urls import path

from . import views_audit as views

urlpatterns = [
    path("findings/", views.FindingListView.as_view(), name="finding_list"),
    path("findings/new/", views.FindingCreateView.as_view(), name="finding_create"),
    path("findings/<int:pk>/", views.FindingDetailView.as_view(), name="finding_detail"),
    path("referrals/", views.ReferralListView.as_view(), name="referral_list"),
    path("referrals/new/", views.ReferralCreateView.as_view(), name="referral_create"),
    path("referrals/<int:pk>/", views.ReferralDetailView.as_view(), name="referral_detail"),
]
