"""bulk_insert stores exactly what a Core insert of the same rows stores, on either database."""

from datetime import datetime, timedelta, timezone

from sqlalchemy import JSON, Boolean, Column, Integer, MetaData, String, Table, insert, select, text

from fangxun.core.bulk import FAST_FROM, ROWS_PER_STATEMENT, bulk_insert, bulk_insert_values, reserve_ids
from fangxun.core.db import UTCDateTime, session_factory

metadata = MetaData()
probe = Table("bulk_probe", metadata,
              Column("id", Integer, primary_key=True),
              Column("at", UTCDateTime),
              Column("doc", JSON),
              Column("flag", Boolean),
              Column("name", String(20)))


def probe_rows(start: int, count: int) -> list[dict]:
    """Rows with a whole-second time (no microseconds: the case a driver's own datetime adapter writes
    differently), times in another zone, a shared JSON document, booleans and NULLs."""
    shared = {"颜色": "红", "n": [1, 2]}
    base = datetime(2026, 7, 20, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    return [{"id": start + n, "at": base + timedelta(seconds=n, microseconds=0 if n % 2 else 250),
             "doc": shared if n % 3 else {"n": n}, "flag": n % 2 == 0, "name": None if n % 5 else f"第{n}"}
            for n in range(count)]


async def stored(connection, first: int, last: int) -> list[tuple]:
    rows = await connection.execute(text(f"SELECT id, CAST(at AS TEXT), CAST(doc AS TEXT), flag, name "
                                         f"FROM bulk_probe WHERE id BETWEEN {first} AND {last} ORDER BY id"))
    return [tuple(row)[1:] for row in rows]


async def test_fast_path_stores_what_a_core_insert_stores(engine):
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    sessions = session_factory(engine)
    count = FAST_FROM + 10
    async with sessions() as session, session.begin():
        await session.execute(insert(probe), probe_rows(1, count))  # SQLAlchemy's own path
        await bulk_insert(session, probe, probe_rows(100_001, count))  # executemany / COPY
    async with engine.connect() as connection:
        core = await stored(connection, 1, count)
        fast = await stored(connection, 100_001, 100_000 + count)
    assert fast == core
    async with sessions() as session:
        times = (await session.execute(select(probe.c.at).where(probe.c.id > 100_000).order_by(probe.c.id))).scalars()
        assert list(times) == [row["at"] for row in probe_rows(100_001, count)]


async def test_many_statements_store_what_a_core_insert_stores(engine):
    # More rows than one SQLite statement takes: whole statements, then the rest.
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    sessions = session_factory(engine)
    count = 2 * ROWS_PER_STATEMENT + 17
    async with sessions() as session, session.begin():
        await session.execute(insert(probe), probe_rows(1, count))
        await bulk_insert(session, probe, probe_rows(100_001, count))
    async with engine.connect() as connection:
        assert await stored(connection, 100_001, 100_000 + count) == await stored(connection, 1, count)
        assert (await connection.execute(text("SELECT count(*) FROM bulk_probe"))).scalar() == 2 * count


async def test_reserved_ids_follow_the_highest(engine):
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await bulk_insert(session, probe, [{k: v for k, v in row.items() if k != "id"} for row in probe_rows(0, 5)])
        ids = await reserve_ids(session, probe, 3)
        highest = (await session.execute(select(probe.c.id).order_by(probe.c.id.desc()).limit(1))).scalar()
    assert len(set(ids)) == 3 and min(ids) > highest


async def test_value_tuples_store_what_dicts_store(engine):
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    sessions = session_factory(engine)
    rows = probe_rows(1, 30)
    keys = ("id", "at", "doc", "flag", "name")
    async with sessions() as session, session.begin():
        await session.execute(insert(probe), rows)
        await bulk_insert_values(session, probe, keys, [tuple(row[key] for key in keys) for row in probe_rows(1001, 30)])
    async with engine.connect() as connection:
        assert await stored(connection, 1001, 1030) == await stored(connection, 1, 30)
