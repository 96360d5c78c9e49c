"""Where open work comes from: each app registers a source of work that has a due date.

A source is ``callable(today, horizon, region_id=None) -> Iterable[OpenWork]``: every record on
which someone must act now, whose due date is on or before ``today + horizon`` (earlier ones are
overdue), in every region or only in ``region_id`` (finance's preview of its region). It must run
a constant number of queries whatever the number of records (``values()`` over a join, the work
calendar loaded once), because the sweep walks every region at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date


class Party:
    """Who the work waits on; decides whether it escalates (finance's own work does not)."""

    UNIT = "unit"  # a budget unit (the department's fillers)
    DEPARTMENT = "department"  # the department's approver
    FINANCE = "finance"  # the finance bureau
    ASSIGNED = "assigned"  # experts / agencies assigned to the record


@dataclass(frozen=True, slots=True)
class OpenWork:
    model: type  # the record's model (its content type keys the reminder)
    object_id: int
    step: str  # a WorkStep value, or the source's own step code (e.g. "rectification")
    action: str  # who must act: the holders of this action on the record (``users_who_can``)
    owner_id: int  # the record's owner organisation (scope of ``action``; escalation follows it)
    due_on: date
    title: str  # "填报绩效目标：A001 学前教育资助" — what to do and to what
    url: str
    party: str = Party.UNIT
    classified: bool = False  # a 涉密 fund's work: e-mail leaves the title out


Source = Callable[[date, int, int | None], Iterable[OpenWork]]
SOURCES: dict[str, Source] = {}


def register(code: str) -> Callable[[Source], Source]:
    """``@sources.register("targets")`` — the code names the source in the sweep's log."""

    def decorator(source: Source) -> Source:
        SOURCES[code] = source
        return source

    return decorator
