"""Bulk INSERT of many rows at the driver's speed: COPY on PostgreSQL, executemany on SQLite.

Values are converted by the columns' own SQLAlchemy bind processors, so what is stored is exactly what
a Core insert would store; each distinct value is converted once (a fan-out repeats the same
timestamps thousands of times, and shares one payload dict among the rows that have the same).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

# Below this many rows a plain Core insert is as fast and simpler.
FAST_FROM = 200
_MISSING = object()


def _memoised(convert: Callable) -> Callable:
    """`convert` with a cache of its results per value: scalars by type and value, dicts and lists by
    identity (the rows being inserted keep them alive, so an id is not reused meanwhile)."""
    cache: dict = {}

    def once(value):
        if value is None:
            return None
        key = id(value) if isinstance(value, dict | list) else (type(value), value)
        found = cache.get(key, _MISSING)
        if found is _MISSING:
            found = cache[key] = convert(value)
        return found

    return once


def _converters(table: Table, keys: Sequence[str], dialect) -> list[Callable | None]:
    converters = []
    for key in keys:
        # dialect_impl: a TypeDecorator's own bind_processor skips the dialect's (SQLite's datetime text).
        process = table.c[key].type.dialect_impl(dialect).bind_processor(dialect)
        converters.append(_memoised(process) if process is not None else None)
    return converters


async def _executemany(session: AsyncSession, table: Table, keys: Sequence[str], rows: list[dict]) -> None:
    connection = await session.connection()
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    converters = _converters(table, keys, dialect)
    pairs = list(zip(keys, converters))
    parameters = [tuple(row[key] if convert is None else convert(row[key]) for key, convert in pairs)
                  for row in rows]
    statement = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(key) for key in keys)}) "
                 f"VALUES ({', '.join('?' for _ in keys)})")
    await connection.exec_driver_sql(statement, parameters)


async def _copy(session: AsyncSession, table: Table, keys: Sequence[str], rows: list[dict]) -> None:
    """PostgreSQL COPY through the session's own connection (same transaction): five times an INSERT's speed."""
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    pairs = list(zip(keys, _converters(table, keys, connection.dialect)))
    records = [tuple(row[key] if convert is None else convert(row[key]) for key, convert in pairs)
               for row in rows]
    await driver.copy_records_to_table(table.name, records=records, columns=list(keys))


async def reserve_ids(session: AsyncSession, table: Table, count: int) -> list[int]:
    """`count` primary keys for rows the caller will insert itself, in the session's transaction.

    PostgreSQL draws them from the column's sequence. SQLite continues after the highest id: call it
    only after the transaction has written something, so that it holds SQLite's single write lock and
    nobody else can insert meanwhile.
    """
    if count <= 0:
        return []
    key = table.primary_key.columns.values()[0]
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        rows = await connection.exec_driver_sql(
            f"SELECT nextval(pg_get_serial_sequence('{table.name}', '{key.name}')) FROM generate_series(1, {count:d})")
        return [row[0] for row in rows]
    highest = (await connection.exec_driver_sql(f"SELECT COALESCE(MAX({key.name}), 0) FROM {table.name}")).scalar()
    return list(range(highest + 1, highest + 1 + count))


async def bulk_insert(session: AsyncSession, table: Table, rows: list[dict], *, chunk: int = 5000) -> None:
    """INSERT `rows` (dicts; keys may differ between rows) into `table` in the session's transaction.

    Columns that are None in every row of a shape are left out (they take their NULL default).
    """
    shapes: dict[tuple, list[dict]] = {}
    for row in rows:
        shapes.setdefault(tuple(key for key, value in row.items() if value is not None), []).append(row)
    dialect = session.bind.dialect.name
    for keys, group in shapes.items():
        for start in range(0, len(group), chunk):
            part = group[start:start + chunk]
            if len(rows) < FAST_FROM or not keys:
                await session.execute(insert(table), [{key: row[key] for key in keys} for row in part])
            elif dialect == "postgresql":
                await _copy(session, table, keys, part)
            else:
                await _executemany(session, table, keys, part)
