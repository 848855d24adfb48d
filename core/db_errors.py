"""A database that cannot be reached, said in one Chinese line that names it (password hidden) and why."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from fangxun.core.errors import ServiceUnavailable
from fangxun.core.os_errors import reason

# PostgreSQL's SQLSTATEs of a refused connection; {database} and {user} come from the URL.
_SQLSTATES = {
    "3D000": "数据库 {database} 不存在",
    "28000": "数据库拒绝了用户 {user} 的连接（用户不存在，或 pg_hba.conf 不允许）",
    "28P01": "用户 {user} 的密码错误",
    "57P03": "数据库正在启动或关闭，暂不接受连接",
    "53300": "数据库的连接数已满",
    "08001": "无法建立连接",
    "08006": "与数据库的连接中断",
}
# SQLite's error names of a file that cannot serve as the database.
_SQLITE = {
    "SQLITE_CANTOPEN": "无法打开数据库文件 {database}",
    "SQLITE_NOTADB": "{database} 不是 SQLite 数据库文件",
    "SQLITE_READONLY": "数据库文件 {database} 只读",
    "SQLITE_PERM": "没有权限访问数据库文件 {database}",
}


# The first bytes of every SQLite database file.
SQLITE_HEADER = b"SQLite format 3\x00"


class DatabaseUnreachable(ServiceUnavailable):
    """The database cannot be connected to (down, unknown host, wrong name or password, unusable file)."""

    code = "database_unreachable"


def _why(exc: BaseException, url: URL) -> str | None:
    names = {"database": url.database or "", "user": url.username or ""}
    if isinstance(exc, OSError):
        return reason(exc)
    if isinstance(exc, DBAPIError):
        original = exc.orig
        template = (_SQLSTATES.get(getattr(original, "sqlstate", None) or getattr(original, "pgcode", None) or "")
                    or _SQLITE.get(getattr(original, "sqlite_errorname", None) or ""))
        return template.format(**names) if template else None
    return None


def _sqlite_file_problem(url: URL) -> str | None:
    """Why the SQLite file of `url` cannot be the database, seen before connecting (aiosqlite's worker thread
    outlives a failed connection and can write a traceback after the command has ended)."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    path = Path(url.database).expanduser()
    if path.is_dir():
        return f"{path} 是目录，不是数据库文件"
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return None   # created on first connection
    except OSError as exc:
        return f"无法打开数据库文件 {path}（{reason(exc)}）"
    if header and header != SQLITE_HEADER:
        return f"{path} 不是 SQLite 数据库文件"
    return None


def _unreachable(url: URL, why: str) -> DatabaseUnreachable:
    shown = url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)
    return DatabaseUnreachable(f"无法连接数据库 {shown}：{why}")


def unreachable(exc: BaseException, url: URL) -> DatabaseUnreachable | None:
    """`exc` as a DatabaseUnreachable naming `url`, when it says the database cannot be reached; else None."""
    why = _why(exc, url)
    if why is None:
        return None
    return _unreachable(url, why)


@asynccontextmanager
async def reaching(url: URL) -> AsyncIterator[None]:
    """Raise a failure to reach the database at `url` inside the block as DatabaseUnreachable (a SQLite file that
    cannot be one before the block); others unchanged."""
    problem = _sqlite_file_problem(url)
    if problem is not None:
        raise _unreachable(url, problem)
    try:
        yield
    except (OSError, DBAPIError) as exc:
        translated = unreachable(exc, url)
        if translated is None:
            raise
        raise translated from exc
