from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "apps.monitoring"
    verbose_name = "绩效运行监控"

    def ready(self) -> None:
        from apps.attachments import registry

        from . import (
            reminder_sources,  # noqa: F401  (register the work the reminder sweep walks)
            todo,  # noqa: F401  (registers the 待办 providers)
        )

        # Evidence on a monitoring report: read with the report, added while the unit may still edit it.
        registry.register(
            "monitoring.monitoringreport",
            view="monitoring.view",
            edit="monitoring.fill",
            editable=lambda report: report.status in ("draft", "returned"),
        )
