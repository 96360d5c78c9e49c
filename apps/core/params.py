"""Reading numbers from query strings and form fields without ever raising.

``"²".isdigit()`` is true but ``int("²")`` raises, and a 30-digit id overflows PostgreSQL's integer:
both must read as "no value" (the page falls back, the API answers 400), never as a 500."""

from __future__ import annotations

PG_INT_MAX = 2**31 - 1


def int_param(raw, *, low: int = 0, high: int = PG_INT_MAX) -> int | None:
    """``raw`` as an int if it is plain ASCII digits within ``low``..``high``; otherwise None."""
    text = str(raw if raw is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(high)):
        return None
    value = int(text)
    return value if low <= value <= high else None
