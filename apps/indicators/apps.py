from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "apps.indicators"
    verbose_name = "指标库"
