"""What a log line is about, carried by the task doing the work: the request id, the warning, the notification,
the channel. Set with `log_context(...)`; every line logged inside carries it (core/logs.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# The fields a line may carry, in the order the human format shows them.
FIELDS = ("request_id", "warning_id", "notification_id", "channel")

_current: ContextVar[dict[str, object]] = ContextVar("fangxun_log_context", default={})


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Lines logged inside (in this task, and in tasks it starts) carry `fields` besides the outer ones."""
    token = _current.set({**_current.get(), **{key: value for key, value in fields.items() if value is not None}})
    try:
        yield
    finally:
        _current.reset(token)


def current() -> dict[str, object]:
    """The fields in force here."""
    return _current.get()
