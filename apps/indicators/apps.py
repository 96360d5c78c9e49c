from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "apps.indicators"
    verbose_name = "指标库"

    def ready(self):
        from django.db.backends.signals import connection_created

        from .selectors import set_trigram_threshold

        connection_created.connect(set_trigram_threshold, dispatch_uid="indicators.set_trigram_threshold")
