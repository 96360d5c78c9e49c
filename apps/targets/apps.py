from django.apps import AppConfig


class TargetsConfig(AppConfig):
    name = "apps.targets"
    verbose_name = "绩效目标"

    def ready(self) -> None:
        from . import (
            reminder_sources,  # noqa: F401  (register the work the reminder sweep walks)
            todo,  # noqa: F401  (registers the 待办 providers)
        )
