"""Bulk INSERT of many rows at the driver's speed: COPY on PostgreSQL, executemany on SQLite.

Values are converted by the columns' own SQLAlchemy bind processors, so what is stored is exactly what
a Core insert would store; each distinct value is converted once (a fan-out repeats the same
timestamps thousands of times, and shares one payload dict among the rows that have the same).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from itertools import chain, compress, repeat
from operator import is_not, itemgetter

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

# Below this many rows a plain Core insert is as fast and simpler.
FAST_FROM = 200
# Rows per SQLite INSERT statement, within its limit of bound variables (999 before SQLite 3.32).
ROWS_PER_STATEMENT = 500
SQLITE_MAX_VARIABLES = 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999
_MISSING = object()


def _memoised(convert: Callable) -> Callable:
    """`convert` with a cache of its results per value: scalars by type and value, dicts and lists by
    identity (the cache holds each such object, so its id is not reused by another meanwhile: rows made
    chunk by chunk may be gone before the last chunk is converted)."""
    cache: dict = {}
    held: list = []

    def once(value):
        if value is None:
            return None
        if isinstance(value, dict | list):
            key = id(value)
            if key not in cache:
                held.append(value)
        else:
            key = (type(value), value)
        found = cache.get(key, _MISSING)
        if found is _MISSING:
            found = cache[key] = convert(value)
        return found

    return once


def _converters(table: Table, keys: Sequence[str], dialect) -> list[tuple[int, Callable]]:
    """(position, converter) of the columns whose type converts values on the way in."""
    converters = []
    for position, key in enumerate(keys):
        # dialect_impl: a TypeDecorator's own bind_processor skips the dialect's (SQLite's datetime text).
        process = table.c[key].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            converters.append((position, _memoised(process)))
    return converters


def _converted(values: list[tuple], converters: list[tuple[int, Callable]]) -> list[tuple]:
    if not converters:
        return values
    converted = []
    for row in values:
        row = list(row)
        for position, convert in converters:
            row[position] = convert(row[position])
        converted.append(tuple(row))
    return converted


async def _executemany(session: AsyncSession, table: Table, keys: Sequence[str], values: list[tuple]) -> None:
    """INSERT … VALUES (…), (…), …: the driver binds a whole statement's rows at once. (Row by row, its
    thread takes the GIL for every row, and each time it stalls the event loop's thread, which is busy
    sending while outcomes are written.)"""
    connection = await session.connection()
    quote = connection.dialect.identifier_preparer.quote
    parameters = _converted(values, _converters(table, keys, connection.dialect))
    head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(key) for key in keys)}) VALUES "
    row = f"({', '.join('?' for _ in keys)})"
    per = max(1, min(ROWS_PER_STATEMENT, SQLITE_MAX_VARIABLES // len(keys)))
    full = len(parameters) - len(parameters) % per
    if full:
        await connection.exec_driver_sql(head + ", ".join([row] * per),
                                         [tuple(chain.from_iterable(parameters[start:start + per]))
                                          for start in range(0, full, per)])
    if full < len(parameters):
        rest = parameters[full:]
        await connection.exec_driver_sql(head + ", ".join([row] * len(rest)), tuple(chain.from_iterable(rest)))


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
        # The sequence is looked up once (per drawn value it cost more than the draw), and the values
        # come back as one array, not as `count` rows.
        sequence = (await connection.exec_driver_sql(
            f"SELECT pg_get_serial_sequence('{table.name}', '{key.name}')")).scalar()
        literal = sequence.replace("'", "''")
        drawn = await connection.exec_driver_sql(
            f"SELECT array_agg(nextval('{literal}')) FROM generate_series(1, {count:d})")
        return list(drawn.scalar())
    highest = (await connection.exec_driver_sql(f"SELECT COALESCE(MAX({key.name}), 0) FROM {table.name}")).scalar()
    return list(range(highest + 1, highest + 1 + count))


async def bulk_insert(session: AsyncSession, table: Table, rows: list[dict], *, chunk: int = 5000) -> None:
    """INSERT `rows` (dicts; keys may differ between rows) into `table` in the session's transaction.

    Columns that are None in every row of a shape are left out (they take their NULL default).
    """
    shapes: dict[tuple, list[dict]] = {}
    for row in rows:
        present = tuple(compress(row, map(is_not, row.values(), repeat(None))))  # the keys not None
        shapes.setdefault(present, []).append(row)
    for keys, group in shapes.items():
        if not keys or len(rows) < FAST_FROM:
            for start in range(0, len(group), chunk):
                part = group[start:start + chunk]
                await session.execute(insert(table), [{key: row[key] for key in keys} for row in part])
            continue
        getter = itemgetter(*keys) if len(keys) > 1 else (lambda row, key=keys[0]: (row[key],))
        await bulk_insert_values(session, table, keys, [getter(row) for row in group], chunk=chunk)


async def bulk_insert_values(session: AsyncSession, table: Table, keys: Sequence[str], values: list[tuple], *,
                             chunk: int = 5000) -> None:
    """INSERT rows given as tuples of `keys`' values (None is written as NULL) at the driver's speed."""
    chunks = (values[start:start + chunk] for start in range(0, len(values), chunk))
    await bulk_insert_chunks(session, table, keys, chunks)


async def bulk_insert_chunks(session: AsyncSession, table: Table, keys: Sequence[str],
                             chunks: Iterable[list[tuple]]) -> None:
    """INSERT value tuples of `keys` made chunk by chunk (None is written as NULL), in the session's transaction.

    On PostgreSQL it is one COPY through the session's own connection (five times an INSERT's speed) that
    takes each chunk as it is made: the server writes one chunk while the caller makes the next. On SQLite
    the chunks are inserted one after the other (its thread needs the GIL for every statement it binds).
    """
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        for values in chunks:
            await _executemany(session, table, keys, values)
        return
    driver = (await connection.get_raw_connection()).driver_connection
    converters = _converters(table, keys, connection.dialect)
    records = chain.from_iterable(_converted(values, converters) for values in chunks)
    await driver.copy_records_to_table(table.name, records=records, columns=list(keys))
