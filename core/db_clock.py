"""The database's own clock as seconds since 1970, one clock for every process and host that shares it."""

from __future__ import annotations

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class database_seconds(FunctionElement):  # noqa: N801 (an SQL function, named like one)
    """SQL: now, by the database server's clock, in seconds since 1970 (a float)."""

    type = Float()
    inherit_cache = True
    name = "database_seconds"


@compiles(database_seconds, "postgresql")
def _postgresql(element, compiler, **kw) -> str:
    return "CAST(extract(epoch from clock_timestamp()) AS double precision)"


@compiles(database_seconds, "sqlite")
def _sqlite(element, compiler, **kw) -> str:
    return "((julianday('now') - 2440587.5) * 86400.0)"
