"""Finance's reminder pages (/reminders/): rules, what is scheduled, sent and failed, resend."""

from django.urls import path

from . import views_reminders as views

app_name = "reminders"
urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("upcoming/", views.UpcomingView.as_view(), name="upcoming"),
    path("sent/", views.SentView.as_view(), name="sent"),
    path("failed/", views.FailedView.as_view(), name="failed"),
    path("failed/<int:pk>/resend/", views.ResendView.as_view(), name="resend"),
    path("rules/", views.RulesView.as_view(), name="rules"),
]
