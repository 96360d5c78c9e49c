from django.apps import AppConfig


class AttachmentsConfig(AppConfig):
    name = "apps.attachments"
    verbose_name = "证明材料附件"

    def ready(self) -> None:
        from apps.core import policy  # noqa: F401  (the actions must be declared first)

        from . import registry

        # Evidence on a performance target: read with the target, changed only while it is editable.
        registry.register(
            "targets.performancetarget",
            view="target.view",
            edit="target.edit",
            editable=lambda target: target.is_editable,
        )
