"""Pages of 信息公开 under /results/ (namespace ``results``)."""

from django.urls import path

from . import views_disclosure as views

urlpatterns = [
    path("disclosures/", views.DisclosureListView.as_view(), name="disclosure_list"),
    path("disclosures/pending/", views.DisclosurePendingView.as_view(), name="disclosure_pending"),
    path("disclosures/batch/", views.DisclosureBatchView.as_view(), name="disclosure_batch"),
    path("disclosures/publish/<str:kind>/<int:pk>/", views.DisclosurePublishView.as_view(), name="disclosure_publish"),
    path("disclosures/<int:pk>/", views.DisclosureDetailView.as_view(), name="disclosure_detail"),
    path("disclosures/<int:pk>/withdraw/", views.DisclosureWithdrawView.as_view(), name="disclosure_withdraw"),
]
