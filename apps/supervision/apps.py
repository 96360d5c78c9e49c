from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "apps.supervision"
    verbose_name = "监督考核"

    def ready(self):
        from apps.attachments import registry
        from apps.core.todo import register as register_todo

        from . import reminder_sources  # noqa: F401  (registers the fiscal submissions with the reminder sweep)
        from .selectors_fiscal import fiscal_todos

        register_todo(fiscal_todos)  # districts: 填报 / 修改; the city: 评分

        # Evidence: a district's fiscal data (added by the district until it is submitted) and an audit
        # finding (the auditor). A hand-scored assessment line names its evidence in ``evidence``.
        registry.register(
            "supervision.fiscalsubmission",
            view="fiscal.view",
            edit="fiscal.fill",
            editable=lambda s: s.status in ("draft", "returned"),
        )
        registry.register("supervision.auditfinding", view="finding.view", edit="finding.manage")
