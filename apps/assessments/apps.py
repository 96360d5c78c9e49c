from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "apps.assessments"
    verbose_name = "事前绩效评估"
