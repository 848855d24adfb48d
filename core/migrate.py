"""Schema migrations (Alembic) run programmatically on an async engine."""

from __future__ import annotations

import functools
import time
from pathlib import Path

import re

from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from fangxun.core.db_errors import reaching

SCRIPT_LOCATION = str(Path(__file__).resolve().parent.parent / "migrations")
# The first key of fangxun's PostgreSQL advisory lock on migrations (the second is its schema's hash).
MIGRATION_LOCK_KEY = 0x66786D67  # "fxmg"
# How long a SQLite upgrade waits for another process's upgrade (each try waits the busy timeout).
SQLITE_LOCK_WAIT_S = 600


def alembic_config():
    """An Alembic config pointing at the packaged migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database schema to `revision`; processes doing it at once take turns (hold_migration_lock).
    Every command and `serve` start here: a database that cannot be reached is a DatabaseUnreachable naming it."""
    def run(sync_connection) -> None:
        from alembic import command

        config = alembic_config()
        hold_migration_lock(sync_connection)
        config.attributes["connection"] = sync_connection
        command.upgrade(config, revision)

    async with reaching(engine.url):
        if revision == "head" and await schema_is_current(engine):
            return  # nothing to do: no lock taken
        async with engine.begin() as connection:
            await connection.run_sync(run)


def hold_migration_lock(connection: Connection) -> None:
    """One process migrates at a time, until its transaction ends; the others wait, then find the schema at head.

    PostgreSQL: a transaction-level advisory lock per schema. SQLite: the database's write lock (BEGIN IMMEDIATE),
    which also makes the whole upgrade one transaction."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key, hashtext(coalesce(current_schema(), '')))"),
                           {"key": MIGRATION_LOCK_KEY})
    elif connection.dialect.name == "sqlite":
        deadline = time.monotonic() + SQLITE_LOCK_WAIT_S
        while True:
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise


async def schema_is_current(engine: AsyncEngine) -> bool:
    """True when the database is at the newest migration."""
    current, head = await schema_revisions(engine)
    return current == head


_REVISION = re.compile(r"^(down_revision|revision) = '([^']*)'", re.MULTILINE)


@functools.cache
def head_revision() -> str:
    """The newest migration's revision: the one no other names as its down_revision (read from the files without
    Alembic, whose import costs a command a quarter of a second; test_migrations checks it is Alembic's head)."""
    revisions, below = set(), set()
    for path in (Path(SCRIPT_LOCATION) / "versions").glob("*.py"):
        for key, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            (revisions if key == "revision" else below).add(value)
    heads = revisions - below
    if len(heads) != 1:
        raise RuntimeError(f"migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


async def schema_revisions(engine: AsyncEngine) -> tuple[str | None, str]:
    """(the database's revision, the newest migration's): equal when the schema is at head. Read from
    alembic_version directly: a readiness probe asks often, and Alembic's context logs each time it is made."""
    async with engine.connect() as connection:
        revisions = []
        if await connection.run_sync(lambda sync: inspect(sync).has_table("alembic_version")):
            revisions = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    return (revisions[0] if len(revisions) == 1 else None), head_revision()
