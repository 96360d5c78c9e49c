"""Which reminder is due today for a piece of work: the stage logic of a region's rule."""

from __future__ import annotations

from datetime import date

from .models import ReminderRule


def stages(rule: ReminderRule) -> list[int]:
    """The rule's stages as day offsets from the due date, ascending: [-7, -3, -1, 0, 1, 3]."""
    found = {-n for n in rule.days_before_list}
    if rule.on_due_day:
        found.add(0)
    found |= {n for n in (rule.escalate_department_after, rule.escalate_finance_after) if n}
    return sorted(found)


def current_stage(rule_stages: list[int], stop_after: int, due_on: date, today: date) -> int | None:
    """The latest stage reached today, or None (too early, or overdue past ``stop_after`` days).

    The latest reached — not only one falling exactly on today — so a sweep that did not run for a
    day (beat down, holiday) still sends the stage it missed, once."""
    offset = (today - due_on).days
    if stop_after and offset > stop_after:
        return None
    reached = [s for s in rule_stages if s <= offset]
    return reached[-1] if reached else None
