"""What a log line is about, carried by the task doing the work: the request id, the warning, the notification,
the channel. Set with `log_context(...)`; every line logged inside carries it (core/logs.py)."""

from __future__ import annotations

from contextvars import ContextVar

# The fields a line may carry, in the order the human format shows them.
FIELDS = ("request_id", "warning_id", "notification_id", "channel")

_current: ContextVar[dict[str, object]] = ContextVar("fangxun_log_context", default={})


class log_context:  # noqa: N801 (used like a function: `with log_context(warning_id=…):`)
    """Lines logged inside (in this task, and in tasks it starts) carry `fields` besides the outer ones.
    (A class rather than a generator: the dispatcher enters one per message.)"""

    __slots__ = ("fields", "_token")

    def __init__(self, **fields: object):
        self.fields = fields

    def __enter__(self) -> None:
        self._token = _current.set({**_current.get(), **{key: value for key, value in self.fields.items()
                                                         if value is not None}})

    def __exit__(self, *exc_info: object) -> None:
        _current.reset(self._token)


def current() -> dict[str, object]:
    """The fields in force here."""
    return _current.get()
