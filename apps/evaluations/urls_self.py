"""Routes of 单位自评 (joined in urls.py, namespace ``evaluations``, mounted at /evaluations/)."""

from django.urls import path

from . import views_self as v

urlpatterns = [
    path("self/", v.SelfListView.as_view(), name="self_list"),
    path("self/rounds/", v.SelfRoundListView.as_view(), name="self_round_list"),
    path("self/rounds/<int:pk>/", v.SelfRoundDetailView.as_view(), name="self_round_detail"),
    path("self/rounds/<int:pk>/close/", v.SelfRoundCloseView.as_view(), name="self_round_close"),
    path("self/<int:pk>/", v.SelfDetailView.as_view(), name="self_detail"),
    path("self/<int:pk>/edit/", v.SelfEditView.as_view(), name="self_edit"),
    path("self/<int:pk>/preview/", v.SelfPreviewView.as_view(), name="self_preview"),
    path("self/<int:pk>/adjust/", v.SelfAdjustView.as_view(), name="self_adjust"),
    path("self/<int:pk>/step/<str:action>/", v.SelfTransitionView.as_view(), name="self_transition"),
]
