"""The migrations build the schema the models describe, on both databases."""

from sqlalchemy import inspect

from fangxun.core.migrate import schema_is_current, upgrade
from fangxun.schema import metadata


async def test_upgrade_creates_every_table_and_is_repeatable(engine):
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert set(metadata.tables) <= tables
    assert await schema_is_current(engine)
    await upgrade(engine)  # a second upgrade is a no-op, not an error
    assert await schema_is_current(engine)


def test_the_head_read_from_the_files_is_alembics():
    from alembic.script import ScriptDirectory

    from fangxun.core.migrate import alembic_config, head_revision

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()
