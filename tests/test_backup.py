"""`fangxun backup FILE`: SQLite's online backup (while another connection writes) and pg_dump for PostgreSQL; a
backup restored into a fresh database holds every table with the same number of rows, at the newest schema."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
import uuid
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import inspect, text
from support.command_line import registry_database, run
from support.databases import PG_URL

from fangxun.core.accounts import create_token, create_user
from fangxun.core.backup import pg_dump_command
from fangxun.core.db import create_engine, session_factory
from fangxun.core.migrate import schema_is_current

PG_TOOLS = shutil.which("pg_dump") and shutil.which("pg_restore")


async def fill(url: str) -> None:
    """Beyond the registry: an account, a token, an event with an append-only journal entry and decision."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            await create_user(session, "duty01", "correct-horse-battery", "editor")
            await create_token(session, "viewer", label="大屏")
            await session.execute(text(
                "INSERT INTO events (kind, name, status, started_at, opened_by, note, created_at) VALUES "
                "('rainfall', '2026年6月1日降雨过程', 'open', CURRENT_TIMESTAMP, 'user:duty01', '', CURRENT_TIMESTAMP)"))
            await session.execute(text(
                "INSERT INTO journal_entries (event_id, recorded_at, author, action, text) "
                "VALUES (1, CURRENT_TIMESTAMP, 'user:water01', '转移群众', '转移低洼地带群众 120 人')"))
            await session.execute(text(
                "INSERT INTO response_decisions (event_id, action, level, proposal_rule, decided_by, decided_at, "
                "recorded_by, recorded_at, note) VALUES (1, 'activate', 4, '', 'user:lead01', CURRENT_TIMESTAMP, "
                "'user:duty01', CURRENT_TIMESTAMP, '')"))
    finally:
        await engine.dispose()


async def table_counts(url: str) -> dict[str, int]:
    """Rows in every table of the database (alembic_version included)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda c: inspect(c).get_table_names())
            return {name: (await connection.execute(text(f'SELECT count(*) FROM "{name}"'))).scalar_one()
                    for name in sorted(names)}
    finally:
        await engine.dispose()


async def is_current(url: str) -> bool:
    engine = create_engine(url)
    try:
        return await schema_is_current(engine)
    finally:
        await engine.dispose()


async def test_a_sqlite_backup_restores_every_table(tmp_path):
    async with registry_database("sqlite", tmp_path) as url:
        await fill(url)
        before = await table_counts(url)
        target = tmp_path / "backups" / "fangxun-20260601.db"
        status, out, err = run("--database-url", url, "backup", str(target))
        assert status == 0, err
        assert f"已备份到 {target}" in out and f"{len(before)} 张表" in out and f"{sum(before.values())} 行" in out
        assert not target.with_name(target.name + ".partial").exists()
        # One self-contained file: no -wal beside it is needed.
        with sqlite3.connect(target) as copy:
            assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"

        restored = tmp_path / "restored.db"
        shutil.copyfile(target, restored)
        restored_url = f"sqlite:///{restored}"
        assert await table_counts(restored_url) == before
        assert before["journal_entries"] == before["response_decisions"] == 1 and before["contacts"] > 0
        assert await is_current(restored_url)

        # The backup never overwrites a file, and a database file that is not there is said so.
        status, _, err = run("--database-url", url, "backup", str(target))
        assert status == 2 and "已存在" in err
        assert await table_counts(f"sqlite:///{target}") == before
        status, _, err = run("--database-url", url, "backup", url.removeprefix("sqlite:///"))
        assert status == 2 and "已存在" in err
        status, _, err = run("--database-url", f"sqlite:///{tmp_path}/missing.db", "backup", str(tmp_path / "x.db"))
        assert status == 2 and "不存在" in err and not (tmp_path / "missing.db").exists()


async def test_a_sqlite_backup_runs_while_the_service_writes(tmp_path):
    async with registry_database("sqlite", tmp_path) as url:
        engine = create_engine(url)
        stop = asyncio.Event()
        written = 0

        async def writer():
            nonlocal written
            while not stop.is_set():
                async with engine.begin() as connection:
                    await connection.execute(text(
                        "INSERT INTO audit_records (at, actor, action, target_type, target_id) "
                        "VALUES (CURRENT_TIMESTAMP, 'test', 'write', 'test', '')"))
                written += 1
                await asyncio.sleep(0.002)

        try:
            task = asyncio.create_task(writer())
            await asyncio.sleep(0.3)
            status, _, err = await asyncio.to_thread(run, "--database-url", url, "backup", str(tmp_path / "a.db"))
            stop.set()
            await task
            # A write transaction stays open through a whole backup: the backup neither waits for it nor copies
            # its uncommitted row.
            async with engine.connect() as pending:
                await pending.execute(text(
                    "INSERT INTO audit_records (at, actor, action, target_type, target_id) "
                    "VALUES (CURRENT_TIMESTAMP, 'uncommitted', 'write', 'test', '')"))
                held = await asyncio.to_thread(run, "--database-url", url, "backup", str(tmp_path / "b.db"))
                await pending.rollback()
        finally:
            await engine.dispose()
        assert status == 0, err
        assert held[0] == 0, held[2]
        with sqlite3.connect(tmp_path / "a.db") as copy:
            assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            copied = copy.execute("SELECT count(*) FROM audit_records WHERE actor = 'test'").fetchone()[0]
        print(f"backup taken during writes: {copied} of the {written} rows written in all")
        assert 0 < copied <= written
        with sqlite3.connect(tmp_path / "b.db") as copy:
            assert copy.execute("SELECT count(*) FROM audit_records WHERE actor = 'test'").fetchone()[0] == written
            assert copy.execute("SELECT count(*) FROM audit_records WHERE actor = 'uncommitted'").fetchone()[0] == 0


@pytest.mark.skipif(not PG_TOOLS, reason="pg_dump and pg_restore are not installed")
async def test_a_postgresql_dump_restores_every_table_into_a_fresh_database(tmp_path):
    async with registry_database("postgresql", tmp_path) as url:
        await fill(url)
        before = await table_counts(url)
        target = tmp_path / "fangxun.dump"
        status, out, err = run("--database-url", url, "backup", str(target))
        assert status == 0, err
        assert "pg_dump --format=custom" in out and "pg_restore" in out and target.stat().st_size > 0

        name = f"fx_restore_{uuid.uuid4().hex[:10]}"
        connection = await asyncpg.connect(PG_URL)
        await connection.execute(f'CREATE DATABASE "{name}"')
        await connection.close()
        restored_url = PG_URL.rsplit("/", 1)[0] + "/" + name
        try:
            restore = subprocess.run(["pg_restore", "--no-owner", f"--dbname={restored_url}", str(target)],
                                     capture_output=True, text=True, timeout=120)
            assert restore.returncode == 0, restore.stderr
            assert await table_counts(restored_url) == before
            assert before["journal_entries"] == 1 and before["contacts"] > 0
            assert await is_current(restored_url)
            # The append-only triggers came back with the data.
            engine = create_engine(restored_url)
            try:
                with pytest.raises(Exception, match="append-only"):
                    async with engine.begin() as connection:
                        await connection.execute(text("UPDATE journal_entries SET text = 'x'"))
            finally:
                await engine.dispose()
        finally:
            connection = await asyncpg.connect(PG_URL)
            await connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            await connection.close()

        status, _, err = run("--database-url", url, "backup", str(target))
        assert status == 2 and "已存在" in err


async def test_without_pg_dump_the_command_prints_the_line_to_run(tmp_path):
    status, out, err = run("--database-url", "postgresql://fangxun:s3cret-pw@db.example:5433/fangxun", "backup",
                           str(tmp_path / "f.dump"), env={"PATH": str(tmp_path)})
    assert status == 1 and "未找到 pg_dump" in err
    assert "pg_dump --format=custom" in err and "postgresql://fangxun@db.example:5433/fangxun" in err
    assert "s3cret-pw" not in out + err and not (tmp_path / "f.dump").exists()


def test_the_pg_dump_password_travels_in_the_environment_only():
    command = pg_dump_command("postgresql+asyncpg://fangxun:s3cret-pw@db.example/fangxun?sslmode=require",
                              Path("/backups/f.dump"))
    assert command.args == ["pg_dump", "--format=custom", "--file=/backups/f.dump",
                            "--dbname=postgresql://fangxun@db.example/fangxun?sslmode=require"]
    assert command.environment()["PGPASSWORD"] == "s3cret-pw"
    assert "s3cret-pw" not in str(command) and str(command).startswith("PGPASSWORD=… pg_dump")
