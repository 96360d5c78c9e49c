"""Exact query counts that must not grow with the data (Zulip-style: print the SQL on failure)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext


def count_queries(fn) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries]


def assert_constant_queries(fn, grow, expected: int) -> None:
    """``fn`` runs exactly ``expected`` queries before and after ``grow()`` adds more rows."""
    fn()  # warm per-process caches (content types, security policy) once
    before, sql_before = count_queries(fn)
    grow()
    after, sql_after = count_queries(fn)
    assert (before, after) == (expected, expected), "\n".join(
        [f"before={before} after={after} expected={expected}", *sql_after]
    )
