"""Pages of 预算挂钩 (mounted under /results/, namespace ``results``)."""

from django.urls import path

from . import views_linkage as views

urlpatterns = [
    path("linkage/rules/", views.LinkageRulesView.as_view(), name="linkage_rules"),
    path("linkage/arrange/", views.ArrangeListView.as_view(), name="linkage_arrange"),
    path("linkage/arrange/<int:pk>/", views.ArrangeRowView.as_view(), name="linkage_arrange_fund"),
    path("linkage/report/", views.ReportView.as_view(), name="linkage_report"),
    path("linkage/report.xlsx", views.ReportExcelView.as_view(), name="linkage_report_excel"),
]
