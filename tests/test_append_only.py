"""Journal entries and response decisions stay as written whatever raw SQL a database client sends: REPLACE,
INSERT OR REPLACE, upserts and MERGE are refused on SQLite and PostgreSQL alike, and appending still works."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

# A written row of each table, by raw SQL (CURRENT_TIMESTAMP suits both databases).
COLUMNS = {
    "journal_entries": "(id, event_id, recorded_at, author, action, text)",
    "response_decisions": "(id, event_id, action, level, proposal_rule, decided_by, decided_at, recorded_by, "
                          "recorded_at, note)",
}
VALUES = {
    "journal_entries": "({id}, 1, CURRENT_TIMESTAMP, 'user:water01', '{text}', '{text}')",
    "response_decisions": "({id}, 1, 'activate', 4, '', 'user:lead01', CURRENT_TIMESTAMP, 'user:duty01', "
                          "CURRENT_TIMESTAMP, '{text}')",
}
CHANGED = {"journal_entries": "text", "response_decisions": "note"}
TABLES = list(COLUMNS)

SQLITE_ATTACKS = [
    "INSERT OR REPLACE INTO {table} {columns} VALUES {values}",
    "REPLACE INTO {table} {columns} VALUES {values}",
    "INSERT INTO {table} {columns} VALUES {values} ON CONFLICT(id) DO UPDATE SET {changed} = excluded.{changed}",
    "INSERT INTO {table} {columns} VALUES {values} ON CONFLICT DO UPDATE SET {changed} = excluded.{changed}",
    "INSERT OR REPLACE INTO {table} {columns} SELECT * FROM (VALUES {values})",
    # Moving the second row onto the first's id would delete the first.
    "UPDATE OR REPLACE {table} SET id = 1 WHERE id = 2",
    "INSERT OR IGNORE INTO {table} {columns} VALUES {values}",
]
POSTGRESQL_ATTACKS = [
    "REPLACE INTO {table} {columns} VALUES {values}",
    "INSERT INTO {table} {columns} VALUES {values} ON CONFLICT (id) DO UPDATE SET {changed} = excluded.{changed}",
    "INSERT INTO {table} {columns} VALUES {values}",
    "MERGE INTO {table} AS t USING (SELECT 1 AS id) AS s ON t.id = s.id WHEN MATCHED THEN UPDATE SET {changed} = 'x'",
    "MERGE INTO {table} AS t USING (SELECT 1 AS id) AS s ON t.id = s.id WHEN MATCHED THEN DELETE",
    "UPDATE {table} SET id = 1 WHERE id = 2",
]


def sql(template: str, table: str, row_id: int = 1, wording: str = "悄悄改写") -> str:
    return template.format(table=table, columns=COLUMNS[table], changed=CHANGED[table],
                           values=VALUES[table].format(id=row_id, text=wording))


def appended(table: str, wording: str) -> str:
    """A plain INSERT leaving the id to the database."""
    columns = COLUMNS[table].replace("(id, ", "(")
    values = VALUES[table].replace("({id}, ", "(").format(text=wording)
    return f"INSERT INTO {table} {columns} VALUES {values}"


async def rows(engine, table: str) -> list[tuple]:
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(f"SELECT * FROM {table} ORDER BY id"))]


@pytest.fixture
async def written(engine):
    """An event with two journal entries and two decisions, written by plain INSERTs."""
    async with engine.begin() as connection:
        await connection.execute(text(
            "INSERT INTO events (id, kind, name, status, started_at, opened_by, note, created_at) VALUES "
            "(1, 'rainfall', '2026年6月1日降雨过程', 'open', CURRENT_TIMESTAMP, 'user:duty01', '', CURRENT_TIMESTAMP)"))
        for table in TABLES:
            for row_id in (1, 2):
                await connection.execute(text(appended(table, f"原始记录{row_id}")))
    return {table: await rows(engine, table) for table in TABLES}


@pytest.mark.parametrize("table", TABLES)
async def test_raw_sql_cannot_replace_a_written_row(engine, written, table):
    attacks = SQLITE_ATTACKS if engine.dialect.name == "sqlite" else POSTGRESQL_ATTACKS
    for attack in attacks:
        with pytest.raises(DBAPIError) as refused:
            async with engine.begin() as connection:
                await connection.execute(text(sql(attack, table)))
        if "REPLACE INTO" not in attack or engine.dialect.name == "sqlite":
            # PostgreSQL has no REPLACE at all (a syntax error); everything else meets the append-only trigger,
            # or on PostgreSQL the primary key.
            assert "append-only" in str(refused.value) or "duplicate key" in str(refused.value), attack
        assert await rows(engine, table) == written[table], attack


@pytest.mark.parametrize("table", TABLES)
async def test_an_upsert_that_does_nothing_changes_nothing(engine, written, table):
    attack = sql("INSERT INTO {table} {columns} VALUES {values} ON CONFLICT DO NOTHING", table)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(attack))
    except DBAPIError as refused:  # SQLite refuses it outright
        assert engine.dialect.name == "sqlite" and "append-only" in str(refused)
    assert await rows(engine, table) == written[table]


@pytest.mark.parametrize("table", TABLES)
async def test_appending_still_works_and_ids_stay_positive(engine, written, table):
    async with engine.begin() as connection:
        await connection.execute(text(appended(table, "追加")))
    after = await rows(engine, table)
    assert after[:2] == written[table] and [row[0] for row in after] == [1, 2, 3]
    if engine.dialect.name == "sqlite":
        # A row at id -1 would match the id SQLite shows a BEFORE trigger for an automatic id: none may exist.
        with pytest.raises(DBAPIError, match="ids start at 1"):
            async with engine.begin() as connection:
                await connection.execute(text(sql("INSERT INTO {table} {columns} VALUES {values}", table, -1)))
        async with engine.begin() as connection:
            await connection.execute(text(appended(table, "再追加")))
        assert [row[0] for row in await rows(engine, table)] == [1, 2, 3, 4]


@pytest.mark.parametrize("table", TABLES)
async def test_the_id_is_the_only_unique_key(engine, table):
    """REPLACE deletes the rows that conflict on any unique key; the triggers look at the id, so a new unique
    key on these tables needs a trigger of its own."""
    def unique_keys(connection):
        inspector = inspect(connection)
        return ([tuple(c["column_names"]) for c in inspector.get_unique_constraints(table)]
                + [tuple(i["column_names"]) for i in inspector.get_indexes(table) if i["unique"]])

    async with engine.connect() as connection:
        assert await connection.run_sync(unique_keys) == []
        primary = await connection.run_sync(lambda c: inspect(c).get_pk_constraint(table)["constrained_columns"])
    assert primary == ["id"]
