from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("year/", views.fiscal_year_switch, name="fiscal_year_switch"),
    path("audit/", views.AuditEventListView.as_view(), name="audit_list"),
]
