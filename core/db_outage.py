"""Whether a failure says the database cannot serve now (down, restarting, out of connections, its file unusable)
rather than that the request was wrong: the first is worth retrying (503), the second is not."""

from __future__ import annotations

import socket

from sqlalchemy.exc import DBAPIError

from fangxun.core.db_errors import DatabaseUnreachable

# Seconds a client is asked to wait before trying again.
RETRY_AFTER_SECONDS = 10
# PostgreSQL SQLSTATEs: class 08 (connection exception), 28 (the server refuses our user or password), 53
# (insufficient resources: too many connections, disk full, out of memory), the server shutting down or starting up
# (57P01–57P03) and the database gone (3D000).
_PG_CLASSES = ("08", "28", "53")
_PG_STATES = frozenset({"57P01", "57P02", "57P03", "3D000"})
# SQLite: the file cannot be opened, read or written, or another connection holds it too long.
_SQLITE_NAMES = frozenset({"SQLITE_CANTOPEN", "SQLITE_NOTADB", "SQLITE_CORRUPT", "SQLITE_IOERR", "SQLITE_PERM",
                           "SQLITE_READONLY", "SQLITE_FULL", "SQLITE_BUSY", "SQLITE_LOCKED"})


def _chain(exc: BaseException):
    seen = 0
    while exc is not None and seen < 8:
        yield exc
        seen += 1
        exc = getattr(exc, "orig", None) or exc.__cause__


def _says_outage(exc: BaseException) -> bool:
    if isinstance(exc, (ConnectionError, TimeoutError, socket.gaierror)):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    state = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    if isinstance(state, str) and (state.startswith(_PG_CLASSES) or state in _PG_STATES):
        return True
    return getattr(exc, "sqlite_errorname", None) in _SQLITE_NAMES


def is_outage(exc: BaseException) -> bool:
    """True when `exc` (or what it wraps) says the database is unreachable or unusable now."""
    return any(_says_outage(link) for link in _chain(exc))


def outage_reason(exc: BaseException) -> str:
    """The driver's own words for the log, without the statement and its parameters SQLAlchemy would add."""
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0] if text else ''}"


def outage_error() -> DatabaseUnreachable:
    """The error a client is shown during an outage (503, with Retry-After); the database's address stays in the
    log."""
    return DatabaseUnreachable("数据库暂时无法访问，请稍后重试", extra={"retry_after": RETRY_AFTER_SECONDS})
