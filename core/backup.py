"""Backups of the database while the service runs: SQLite's online backup API, or pg_dump for PostgreSQL."""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import URL, make_url

from fangxun.core.db import async_url
from fangxun.core.errors import BadInput, FangxunError


@dataclass(frozen=True)
class SqliteBackup:
    """What a SQLite backup holds."""

    path: Path
    tables: int
    rows: int
    size: int

    def __str__(self) -> str:
        return (f"已备份到 {self.path}：{self.tables} 张表，{self.rows} 行，{self.size / 1024 / 1024:.1f} MB"
                f"（SQLite 在线备份，服务运行时也可进行）")


@dataclass(frozen=True)
class PgDumpCommand:
    """The pg_dump line for a PostgreSQL URL; the password goes in the environment, never on the line."""

    args: list[str]
    password: str | None

    def environment(self) -> dict[str, str]:
        return {**os.environ, **({"PGPASSWORD": self.password} if self.password else {})}

    def __str__(self) -> str:
        line = shlex.join(self.args)
        return f"PGPASSWORD=… {line}" if self.password else line


def check_target(target: Path) -> None:
    """A backup never overwrites a file (a slip such as `fangxun backup fangxun.db` must not destroy the database)."""
    if target.exists():
        raise BadInput(f"备份文件 {target} 已存在：不覆盖已有文件，请换一个文件名")


def backup_sqlite(url: str, target: Path) -> SqliteBackup:
    """Copy the SQLite database of `url` to `target` in one step of the online backup API: a consistent snapshot,
    taken while other processes go on reading and writing (WAL); the copy is checked and is one file."""
    source_path = make_url(url).database
    if not source_path or source_path == ":memory:":
        raise BadInput("内存数据库无法备份：请指定 sqlite:///路径")
    if not Path(source_path).is_file():
        raise BadInput(f"数据库文件 {source_path} 不存在")
    check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{quote(str(Path(source_path).resolve()))}?mode=rw", uri=True)
    try:
        source.execute("PRAGMA busy_timeout=10000")
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            if (problem := copy.execute("PRAGMA quick_check").fetchone()[0]) != "ok":
                raise FangxunError(f"备份副本校验失败：{problem}")
            names = [row[0] for row in copy.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
            rows = sum(copy.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names)
        finally:
            copy.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    with partial.open("rb") as written:
        os.fsync(written.fileno())
    os.replace(partial, target)
    return SqliteBackup(target, len(names), rows, target.stat().st_size)


def pg_dump_command(url: str, target: Path) -> PgDumpCommand:
    """pg_dump in its custom format (restored with pg_restore) of the PostgreSQL database of `url`."""
    parsed = make_url(url)
    plain = URL.create("postgresql", username=parsed.username, host=parsed.host, port=parsed.port,
                       database=parsed.database, query=parsed.query)
    return PgDumpCommand(["pg_dump", "--format=custom", f"--file={target}",
                          f"--dbname={plain.render_as_string(hide_password=False)}"], parsed.password)


def run_pg_dump(url: str, target: Path) -> PgDumpCommand:
    """Run pg_dump into `target` (written as target.partial, renamed when pg_dump succeeds)."""
    check_target(target)
    command = pg_dump_command(url, target)
    if shutil.which("pg_dump") is None:
        raise FangxunError(f"未找到 pg_dump：请安装 PostgreSQL 客户端（主版本不低于服务器），或在能连接数据库的主机上运行：\n"
                           f"{command}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    run = pg_dump_command(url, partial)
    done = subprocess.run(run.args, env=run.environment(), capture_output=True, text=True)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise FangxunError(f"pg_dump 失败（退出码 {done.returncode}）：{done.stderr.strip()}\n命令：{command}")
    os.replace(partial, target)
    return command


def back_up(url: str, target: Path) -> str:
    """Back up the database of `url` to `target`; what to tell the operator."""
    if make_url(async_url(url)).get_backend_name() == "sqlite":
        return str(backup_sqlite(url, target))
    command = run_pg_dump(url, target)
    return (f"已用 pg_dump 备份到 {target}（自定义格式）：{command}\n"
            f"恢复到一个新建的空库：createdb NEWDB && pg_restore --no-owner --dbname=NEWDB {shlex.quote(str(target))}")
