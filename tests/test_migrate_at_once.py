"""Several processes starting at once on a fresh database (four `fangxun db upgrade`, as several web and dispatch
processes started together would) all succeed, and the schema is migrated once, to the newest revision."""

from __future__ import annotations

import asyncio
import os

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from support.command_line import COMMAND
from support.databases import empty_database_url, empty_engine

from fangxun.core.db import create_engine
from fangxun.core.migrate import alembic_config, hold_migration_lock, schema_is_current, upgrade
from fangxun.schema import metadata

PROCESSES = 4


@pytest.fixture(params=["sqlite", "postgresql"])
async def fresh_url(request, tmp_path):
    """The URL of a new, empty database: a SQLite file not yet created, or a whole new PostgreSQL database."""
    async with empty_database_url(request.param, tmp_path, "start") as url:
        yield url


async def _run_at_once(url: str, *args: str) -> list[tuple[int, str]]:
    """Start PROCESSES commands together; (exit status, stderr) of each."""
    environment = {**os.environ, "FANGXUN_DATABASE_URL": url}
    processes = [await asyncio.create_subprocess_exec(*COMMAND, *args, stdout=asyncio.subprocess.PIPE,
                                                      stderr=asyncio.subprocess.PIPE, env=environment)
                 for _ in range(PROCESSES)]
    outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in processes)), 300)
    return [(p.returncode, err.decode()) for p, (_, err) in zip(processes, outputs)]


async def test_four_upgrades_at_once_on_a_fresh_database_all_succeed(fresh_url):
    results = await _run_at_once(fresh_url, "db", "upgrade")
    assert [status for status, _ in results] == [0] * PROCESSES, [err for _, err in results]
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = create_engine(fresh_url)
    try:
        assert await schema_is_current(engine)
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT version_num FROM alembic_version"))).all() == [(head,)]
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert set(metadata.tables) <= tables
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def fresh_engine(request, tmp_path):
    """An engine on a new, empty database: a SQLite file, or a new schema of the test PostgreSQL database."""
    async with empty_engine(request.param, tmp_path) as engine:
        yield engine


async def test_an_upgrade_waits_for_the_one_under_way(fresh_engine):
    async with fresh_engine.connect() as holder:
        await holder.run_sync(hold_migration_lock)  # another process migrating
        waiting = asyncio.create_task(upgrade(fresh_engine))
        await asyncio.sleep(1.5)
        assert not waiting.done()
        await holder.commit()
    await asyncio.wait_for(waiting, 60)
    assert await schema_is_current(fresh_engine)
