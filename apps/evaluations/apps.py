from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    name = "apps.evaluations"
    verbose_name = "绩效评价"

    def ready(self) -> None:
        from apps.attachments import registry

        # Register the 待办 providers and the work the reminder sweep walks.
        from . import reminder_sources, reminder_sources_key, todo, todo_key  # noqa: F401

        # Evidence of a self-evaluation: read with it, added while the unit may still edit it.
        registry.register(
            "evaluations.selfevaluation",
            view="selfeval.view",
            edit="selfeval.fill",
            editable=lambda evaluation: evaluation.status in ("draft", "returned"),
        )
        # The evaluation report and working papers of a key evaluation: added until it is completed.
        registry.register(
            "evaluations.keyevaluation",
            view="evaluation.view",
            edit=lambda evaluation: evaluation.conduct_action,
            editable=lambda evaluation: evaluation.status != "completed",
        )
