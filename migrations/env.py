"""Alembic environment: runs on the connection fangxun.core.migrate hands over."""

from alembic import context

from fangxun.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `fangxun db upgrade` (fangxun.core.migrate.upgrade)")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
