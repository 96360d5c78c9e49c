"""Pages of the agency and expert registry, assignments and appraisals."""

from django.urls import path

from . import views
from .jobs import ASSESSMENT, KEY_EVALUATION

app_name = "agencies"

urlpatterns = [
    # agencies
    path("", views.AgencyListView.as_view(), name="agency_list"),
    path("new/", views.AgencyCreateView.as_view(), name="agency_create"),
    path("<int:pk>/", views.AgencyDetailView.as_view(), name="agency_detail"),
    path("<int:pk>/edit/", views.AgencyEditView.as_view(), name="agency_edit"),
    path("<int:pk>/ties/", views.AgencyTieAddView.as_view(), name="agency_tie_add"),
    # POST only: 暂停委托 (with the reason) / 恢复委托
    path("<int:pk>/suspend/", views.AgencyStatusView.as_view(), {"action": "suspend"}, name="agency_suspend"),
    path("<int:pk>/reactivate/", views.AgencyStatusView.as_view(), {"action": "reactivate"}, name="agency_reactivate"),
    # experts
    path("experts/", views.ExpertListView.as_view(), name="expert_list"),
    path("experts/new/", views.ExpertCreateView.as_view(), name="expert_create"),
    path("experts/<int:pk>/", views.ExpertDetailView.as_view(), name="expert_detail"),
    path("experts/<int:pk>/edit/", views.ExpertEditView.as_view(), name="expert_edit"),
    path("experts/<int:pk>/ties/", views.ExpertTieAddView.as_view(), name="expert_tie_add"),
    path("experts/<int:pk>/suspend/", views.ExpertStatusView.as_view(), {"action": "suspend"}, name="expert_suspend"),
    path(
        "experts/<int:pk>/reactivate/",
        views.ExpertStatusView.as_view(),
        {"action": "reactivate"},
        name="expert_reactivate",
    ),
    path("ties/<int:pk>/remove/", views.TieRemoveView.as_view(), name="tie_remove"),
    # assignment of agencies and experts to a job (a key evaluation or an ex-ante assessment)
    *(
        route
        for kind, prefix in ((KEY_EVALUATION, "key-evaluation"), (ASSESSMENT, "assessment"))
        for route in (
            path(f"assign/{prefix}/<int:pk>/", views.AssignView.as_view(job_kind=kind), name=f"assign_{kind.code}"),
            path(
                f"assign/{prefix}/<int:pk>/withdraw/",
                views.UnassignView.as_view(job_kind=kind),
                name=f"unassign_{kind.code}",
            ),
            path(
                f"appraise/{prefix}/<int:pk>/", views.AppraiseView.as_view(job_kind=kind), name=f"appraise_{kind.code}"
            ),
        )
    ),
    path("mine/", views.MyAssignmentsView.as_view(), name="my_assignments"),
    # quality appraisals
    path("appraisals/", views.AppraisalListView.as_view(), name="appraisal_list"),
    path("appraisals/<int:pk>/", views.AppraisalDetailView.as_view(), name="appraisal_detail"),
]
