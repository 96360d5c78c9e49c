"""A small state machine shared by every record that goes through review.

A ``Workflow`` is a table of named transitions (from states → to state, the permission action
that allows it, an optional guard). ``apply`` locks the row, checks the table, the actor's
permission and the guard, saves only the state field, writes an audit row and runs hooks after
commit. A double click or two reviewers at once cannot both succeed: the second one finds the row
already moved on and gets a clear message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction

from . import audit, permissions

Guard = Callable[[models.Model, object], None]  # raises ValidationError with a Chinese message


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str
    action: str
    label: str
    guard: Guard | None = None
    comment_required: bool = False


class Workflow:
    def __init__(self, transitions: Iterable[Transition], *, field: str = "status"):
        self.field = field
        self.transitions = {t.name: t for t in transitions}

    def state_label(self, model: type[models.Model], state: str) -> str:
        return dict(model._meta.get_field(self.field).choices).get(state, state)

    def available(self, obj: models.Model, user) -> list[Transition]:
        """Transitions the user may take now (for buttons; ``apply`` checks again under lock)."""
        state = getattr(obj, self.field)
        return [t for t in self.transitions.values() if state in t.sources and permissions.can(user, t.action, obj)]

    def apply(
        self,
        obj: models.Model,
        *,
        name: str,
        actor,
        comment: str = "",
        fields: dict | None = None,
        on_commit: Iterable[Callable] = (),
    ):
        """Take transition ``name``; ``fields`` are other values set in the same locked save
        (e.g. the approval time), recorded in the same audit row."""
        transition = self.transitions[name]
        fields = fields or {}
        model = type(obj)
        with transaction.atomic():
            locked = model._default_manager.select_for_update().get(pk=obj.pk)
            current = getattr(locked, self.field)
            if not permissions.can(actor, transition.action, locked):
                raise PermissionDenied(f"您无权对该记录执行“{transition.label}”。")
            if current not in transition.sources:
                raise ValidationError(
                    f"该记录当前状态为“{self.state_label(model, current)}”，不能执行“{transition.label}”。"
                    "可能已被他人处理，请刷新页面后查看。"
                )
            if transition.comment_required and not comment.strip():
                raise ValidationError({"comment": f"执行“{transition.label}”必须填写意见。"})
            if transition.guard:
                transition.guard(locked, actor)
            before = audit.snapshot(locked, list(fields))
            setattr(locked, self.field, transition.target)
            for name_, value in fields.items():
                setattr(locked, name_, value)
            locked.save(update_fields=[self.field, *fields])
            audit.record(
                audit.Kind.TRANSITION,
                actor=actor,
                obj=locked,
                changes={
                    self.field: {"from": current, "to": transition.target},
                    **audit.diff(before, audit.snapshot(locked, list(fields))),
                },
                comment=comment,
            )
            for hook in on_commit:
                transaction.on_commit(lambda hook=hook: hook(locked))
        return locked

    def history(self, obj: models.Model):
        """The transitions this record went through, oldest first."""
        from .models import AuditEvent

        return (
            AuditEvent.objects.for_object(obj)
            .filter(kind=AuditEvent.Kind.TRANSITION)
            .select_related("actor")
            .order_by("occurred_at", "id")
        )
