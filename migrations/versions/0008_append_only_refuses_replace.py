"""journal_entries, response_decisions: SQLite refuses REPLACE, INSERT OR REPLACE and upserts over a written row

SQLite's REPLACE deletes the conflicting row without firing the delete trigger (unless every connection sets
PRAGMA recursive_triggers), so a trigger in the schema refuses any insert whose id is already taken, whoever
connects. PostgreSQL has no REPLACE, and its ON CONFLICT DO UPDATE already meets the update trigger of 0003.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-14 09:00:00
"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

APPEND_ONLY = ("journal_entries", "response_decisions")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in APPEND_ONLY:
        message = f"{table} is append-only: add a correcting entry instead"
        # In a BEFORE INSERT trigger NEW.id is -1 when the id is left to SQLite, so an id below 1 is never let in
        # (the AFTER trigger sees the id given) and an automatic id never matches a written row.
        op.execute(f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "
                   f"WHEN EXISTS (SELECT 1 FROM {table} WHERE id = NEW.id) "
                   f"BEGIN SELECT RAISE(ABORT, '{message}'); END")
        op.execute(f"CREATE TRIGGER {table}_positive_id AFTER INSERT ON {table} WHEN NEW.id < 1 "
                   f"BEGIN SELECT RAISE(ABORT, '{table} ids start at 1'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_positive_id")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_replace")
