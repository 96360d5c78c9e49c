"""Public pages (no login) at /public/ and their JSON at /public/api/."""

from django.urls import path

from . import api_public, views_public

app_name = "public"

urlpatterns = [
    path("", views_public.disclosure_list, name="disclosure_list"),
    path("disclosures/<int:pk>/", views_public.disclosure_detail, name="disclosure_detail"),
    path("disclosures/<int:pk>/report/", views_public.report_download, name="report_download"),
    path("api/disclosures/", api_public.PublicDisclosureList.as_view(), name="api_disclosure_list"),
    path("api/disclosures/<int:pk>/", api_public.PublicDisclosureDetail.as_view(), name="api_disclosure_detail"),
]
