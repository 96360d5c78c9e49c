from django.urls import path

from . import views

app_name = "orgs"

urlpatterns = [
    path("", views.OrganizationListView.as_view(), name="organization_list"),
    path("calendar/", views.CalendarListView.as_view(), name="calendar_list"),
    path("calendar/copy/", views.CalendarCopyView.as_view(), name="calendar_copy"),
    path("calendar/<str:step>/edit/", views.CalendarEntryEditView.as_view(), name="calendar_edit"),
]
