from django.urls import path

from . import views

app_name = "funds"

urlpatterns = [
    path("", views.FundListView.as_view(), name="fund_list"),
    path("new/", views.FundFormView.as_view(), name="fund_create"),
    path("<int:pk>/", views.FundDetailView.as_view(), name="fund_detail"),
    path("<int:pk>/edit/", views.FundFormView.as_view(), name="fund_edit"),
    path("<int:pk>/<str:action>/", views.FundTransitionView.as_view(), name="fund_transition"),
]
