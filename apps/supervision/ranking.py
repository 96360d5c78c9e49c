"""Ranks with ties, shared by the assessment 通报 and the fiscal-operation evaluation."""

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TypeVar

T = TypeVar("T")


def competition_ranks(rows: Iterable[T], score: Callable[[T], Decimal | None]) -> list[tuple[T, int | None]]:
    """Standard competition ranking (1, 2, 2, 4): equal scores share a rank, the next rank skips.

    Rows without a score get no rank and come last. The order among equal scores is the order of
    ``rows`` (callers pass them sorted by organisation order), so the result is stable.
    """
    scored = [r for r in rows if score(r) is not None]
    unscored = [r for r in rows if score(r) is None]
    scored.sort(key=lambda r: score(r), reverse=True)  # stable: ties keep the callers' order
    ranked: list[tuple[T, int | None]] = []
    previous, rank = None, 0
    for position, row in enumerate(scored, start=1):
        if score(row) != previous:
            rank, previous = position, score(row)
        ranked.append((row, rank))
    return ranked + [(r, None) for r in unscored]
