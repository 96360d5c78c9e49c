"""Routes of key evaluations: plans (with the coverage check) and evaluations (joined in urls.py)."""

from django.urls import path

from . import views_key as views

urlpatterns = [
    path("plans/", views.PlanListView.as_view(), name="plan_list"),
    path("plans/new/", views.PlanCreateView.as_view(), name="plan_create"),
    path("plans/<int:pk>/", views.PlanDetailView.as_view(), name="plan_detail"),
    path("plans/<int:pk>/funds/", views.PlanAddFundsView.as_view(), name="plan_add_funds"),
    path("plans/<int:pk>/departments/", views.PlanAddDepartmentView.as_view(), name="plan_add_department"),
    path(
        "plans/<int:pk>/evaluations/<int:evaluation_pk>/remove/",
        views.PlanRemoveView.as_view(),
        name="plan_remove_evaluation",
    ),
    path("plans/<int:pk>/issue/", views.PlanIssueView.as_view(), name="plan_issue"),
    path("plans/<int:pk>/close/", views.PlanCloseView.as_view(), name="plan_close"),
    path("key/", views.KeyListView.as_view(), name="key_list"),
    path("key/<int:pk>/", views.KeyDetailView.as_view(), name="key_detail"),
    path("key/<int:pk>/save/", views.KeySaveView.as_view(), name="key_save"),
    path("key/<int:pk>/weights/", views.KeyWeightsView.as_view(), name="key_weights"),
    path("key/<int:pk>/<str:action>/", views.KeyTransitionView.as_view(), name="key_transition"),
]
