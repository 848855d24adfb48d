"""Async SQLAlchemy engine and session factory, the declarative Base and portable column types."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import DateTime, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from fangxun.core.errors import ConfigError
from fangxun.core.os_errors import os_error_text

DEFAULT_DATABASE_URL = "sqlite:///fangxun.db"


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every dialect (SQLite keeps naive UTC text underneath)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; fangxun stores aware UTC datetimes only")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect):
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def sqlite_text(value: datetime | None) -> str | None:
            # The text SQLAlchemy's SQLite DATETIME writes ("2026-07-20 00:00:00.000000"), built by
            # isoformat in C: a fan-out writes tens of thousands of these.
            naive = self.process_bind_param(value, dialect)
            return None if naive is None else naive.isoformat(" ", "microseconds")

        return sqlite_text

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    """Declarative base of every table."""


def database_url(explicit: str | None = None) -> str:
    """The URL to use: explicit, else $FANGXUN_DATABASE_URL, else the SQLite file default."""
    return explicit or os.environ.get("FANGXUN_DATABASE_URL") or DEFAULT_DATABASE_URL


def async_url(url: str) -> str:
    """Map plain `sqlite:///` and `postgresql://` URLs to their async drivers."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with a terse text
        raise ConfigError(f"数据库地址 {url!r} 无效：{exc}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"数据库地址 {url!r}：无法创建目录 {os_error_text(exc)}") from exc
    elif backend in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    else:
        raise ConfigError(f"数据库地址 {url!r}：只支持 sqlite:/// 和 postgresql://")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # The busy timeout first: switching a new file to WAL waits for another process doing the same.
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


# One encoder for every value (json.dumps with an option builds a new one per call: a fan-out writes ten
# thousand payloads).
_JSON = json.JSONEncoder(ensure_ascii=False)


def json_text(value) -> str:
    """How JSON columns are written: Chinese as it is, not as \\u escapes."""
    return _JSON.encode(value)


def create_engine(url: str | None = None, **kwargs) -> AsyncEngine:
    """An async engine for `url` (plain or driver-qualified)."""
    kwargs.setdefault("json_serializer", json_text)
    engine = create_async_engine(async_url(database_url(url)), **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def utcnow() -> datetime:
    """The current aware UTC time."""
    return datetime.now(timezone.utc)


async def refresh_statistics(session, tables: list[str]) -> None:
    """ANALYZE `tables` after a bulk load, so the planner does not treat them as empty."""
    for table in tables:
        await session.execute(text(f'ANALYZE "{table}"'))
