"""The 待办 (to-do) home page collects items from providers that each app registers.

A provider is ``callable(user, fiscal_year) -> list[TodoItem]``; it must start from
``restrict(user, action)`` like every other read and run a constant number of queries.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class TodoItem:
    title: str
    url: str
    category: str
    due_on: date | None = None
    note: str = ""


Provider = Callable[[object, int | None], list[TodoItem]]
PROVIDERS: list[Provider] = []


def register(provider: Provider) -> Provider:
    PROVIDERS.append(provider)
    return provider


def todos_for(user, fiscal_year: int | None) -> list[TodoItem]:
    items = [item for provider in PROVIDERS for item in provider(user, fiscal_year)]
    return sorted(items, key=lambda i: (i.due_on is None, i.due_on or date.max, i.title))
