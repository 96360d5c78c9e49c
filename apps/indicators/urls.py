from django.urls import path

from . import views

app_name = "indicators"

urlpatterns = [
    path("", views.LibraryView.as_view(), name="library"),
    path("new/", views.IndicatorFormView.as_view(), name="indicator_create"),
    path("<int:pk>/", views.IndicatorDetailView.as_view(), name="indicator_detail"),
    path("<int:pk>/edit/", views.IndicatorFormView.as_view(), name="indicator_edit"),
    path("<int:pk>/retire/", views.IndicatorActionView.as_view(action="retire"), name="indicator_retire"),
    path("<int:pk>/restore/", views.IndicatorActionView.as_view(action="restore"), name="indicator_restore"),
    path("proposals/", views.ProposalQueueView.as_view(), name="proposal_queue"),
    path("propose/", views.ProposalCreateView.as_view(), name="proposal_create"),
    path("proposals/<int:pk>/accept/", views.IndicatorActionView.as_view(action="accept"), name="proposal_accept"),
    path("proposals/<int:pk>/reject/", views.IndicatorActionView.as_view(action="reject"), name="proposal_reject"),
]
