"""Fresh, migrated test databases: a SQLite file, or a throwaway schema on the PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy import text

from fangxun.core.db import create_engine
from fangxun.core.migrate import upgrade

PG_URL = os.environ.get("FANGXUN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@asynccontextmanager
async def empty_engine(dialect: str, folder: Path):
    """An engine on a new, empty database of `dialect` (a SQLite file, or a new schema of the test PostgreSQL
    database); dropped afterwards."""
    name = f"fx_{uuid.uuid4().hex[:12]}"
    if dialect == "sqlite":
        engine = create_engine(f"sqlite:///{folder}/{name}.db")
        try:
            yield engine
        finally:
            await engine.dispose()
        return
    admin = create_engine(PG_URL)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{name}"'))
    engine = create_engine(PG_URL, connect_args={"server_settings": {"search_path": name}})
    try:
        yield engine
    finally:
        await engine.dispose()
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        await admin.dispose()


@asynccontextmanager
async def migrated_engine(dialect: str, folder: Path):
    """An engine on a new, empty, migrated database of `dialect`; dropped afterwards."""
    async with empty_engine(dialect, folder) as engine:
        await upgrade(engine)
        yield engine


@asynccontextmanager
async def empty_database_url(dialect: str, folder: Path, prefix: str):
    """The URL of a new, empty database for a command run in a subprocess: a SQLite file, or a throwaway PostgreSQL
    database (not a schema: a command takes only a URL); dropped afterwards."""
    if dialect == "sqlite":
        yield f"sqlite:///{folder}/{prefix}.db"
        return
    name = f"fx_{prefix}_{uuid.uuid4().hex[:10]}"
    connection = await asyncpg.connect(PG_URL)
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    try:
        yield PG_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        connection = await asyncpg.connect(PG_URL)
        await connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await connection.close()
