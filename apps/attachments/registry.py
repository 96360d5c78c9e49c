"""Which records may carry attachments, and which actions guard them.

The actions are never taken from a request: a client could forge them. A record type is
registered once (in an ``AppConfig.ready``) with the action that lets a user read its attachments
(the record's own view action) and the one that lets a user add or remove them (its edit action),
plus, optionally, ``editable(obj)``: whether the record's state still allows changes (an approved
record is immutable, and so is its evidence).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Model

from apps.core import permissions


@dataclass(frozen=True)
class Entry:
    label: str  # "app_label.modelname", as ``Model._meta.label_lower``
    view: str
    edit: str | Callable[[Model], str]  # an action, or obj → action when it depends on the record
    editable: Callable[[Model], bool] | None = None

    def edit_action(self, obj: Model) -> str:
        return self.edit(obj) if callable(self.edit) else self.edit


_ENTRIES: dict[str, Entry] = {}


def register(
    label: str, *, view: str, edit: str | Callable[[Model], str], editable: Callable[[Model], bool] | None = None
) -> Entry:
    """Allow attachments on records of ``label`` (e.g. ``"targets.performancetarget"``)."""
    label = label.lower()
    permissions.get_action(view)  # unknown action codes fail loudly, at start-up
    if not callable(edit):
        permissions.get_action(edit)
    entry = Entry(label=label, view=view, edit=edit, editable=editable)
    existing = _ENTRIES.get(label)
    if existing is not None and (existing.view, existing.edit) != (view, edit):
        raise ValueError(f"attachments for {label!r} registered twice with different actions")
    _ENTRIES[label] = entry
    return entry


def unregister(label: str) -> None:
    """For tests that register a temporary model."""
    _ENTRIES.pop(label.lower(), None)


def entry_for(model_or_obj: type[Model] | Model | str) -> Entry | None:
    """The registration of a model (class, instance or label), or ``None``."""
    if isinstance(model_or_obj, str):
        label = model_or_obj.lower()
    else:
        label = model_or_obj._meta.label_lower
    return _ENTRIES.get(label)


def is_editable(obj: Model) -> bool:
    """Does the record's state still allow adding or removing attachments? (Unregistered: yes.)"""
    entry = entry_for(obj)
    return entry is None or entry.editable is None or bool(entry.editable(obj))
