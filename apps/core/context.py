"""Per-request facts that audit rows need but services should not take as parameters."""

from contextvars import ContextVar

current_ip: ContextVar[str | None] = ContextVar("current_ip", default=None)
