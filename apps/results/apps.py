from django.apps import AppConfig


class ResultsConfig(AppConfig):
    name = "apps.results"
    verbose_name = "结果应用"

    def ready(self) -> None:
        from apps.attachments import registry

        from . import (
            reminder_sources,  # noqa: F401  (register the work the reminder sweep walks)
            todo,  # noqa: F401  (register the 待办 providers)
        )

        # Evidence of rectification: read with the item, added by the unit until finance accepts it.
        registry.register(
            "results.rectification",
            view="rectification.view",
            edit="rectification.fill",
            editable=lambda item: item.status in ("pending", "in_progress"),
        )
