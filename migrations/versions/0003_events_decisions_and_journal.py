"""events, response decisions, the append-only journal, department scope of tokens and users

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 03:40:00
"""
from alembic import op
import sqlalchemy as sa
import fangxun.core.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# Tables whose rows are never changed or removed once written.
APPEND_ONLY = ("journal_entries", "response_decisions")


def upgrade() -> None:
    op.add_column('api_tokens', sa.Column('department', sa.String(length=50), nullable=True))
    op.add_column('users', sa.Column('department', sa.String(length=50), nullable=True))
    op.create_table('events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('started_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('opened_by', sa.String(length=100), nullable=False),
    sa.Column('opening_warning_id', sa.Integer(), nullable=True),
    sa.Column('closed_by', sa.String(length=100), nullable=True),
    sa.Column('close_reason', sa.String(length=20), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['opening_warning_id'], ['warnings.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_events_kind_status', 'events', ['kind', 'status'], unique=False)
    op.create_index(op.f('ix_events_started_at'), 'events', ['started_at'], unique=False)
    op.create_table('event_warnings',
    sa.Column('warning_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('joined_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('joined_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], ),
    sa.ForeignKeyConstraint(['warning_id'], ['warnings.id'], ),
    sa.PrimaryKeyConstraint('warning_id')
    )
    op.create_index(op.f('ix_event_warnings_event_id'), 'event_warnings', ['event_id'], unique=False)
    op.create_table('response_decisions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=12), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('previous_level', sa.Integer(), nullable=True),
    sa.Column('proposed_level', sa.Integer(), nullable=True),
    sa.Column('proposal_rule', sa.String(length=200), nullable=False),
    sa.Column('trigger_warning_id', sa.Integer(), nullable=True),
    sa.Column('trigger_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=False),
    sa.Column('decided_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('recorded_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('notice_warning_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], ),
    sa.ForeignKeyConstraint(['notice_warning_id'], ['warnings.id'], ),
    sa.ForeignKeyConstraint(['trigger_warning_id'], ['warnings.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_response_decisions_event_id'), 'response_decisions', ['event_id'], unique=False)
    op.create_table('journal_entries',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('department', sa.String(length=50), nullable=True),
    sa.Column('unit_code', sa.String(length=12), nullable=True),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('evacuated', sa.Integer(), nullable=True),
    sa.Column('shelters_opened', sa.Integer(), nullable=True),
    sa.Column('housed', sa.Integer(), nullable=True),
    sa.Column('roads_closed', sa.Integer(), nullable=True),
    sa.Column('rescues', sa.Integer(), nullable=True),
    sa.Column('deaths', sa.Integer(), nullable=True),
    sa.Column('missing', sa.Integer(), nullable=True),
    sa.Column('injured', sa.Integer(), nullable=True),
    sa.Column('economic_loss', sa.Float(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['corrects_id'], ['journal_entries.id'], ),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_journal_entries_corrects_id'), 'journal_entries', ['corrects_id'], unique=False)
    op.create_index(op.f('ix_journal_entries_event_id'), 'journal_entries', ['event_id'], unique=False)
    for table in APPEND_ONLY:
        _refuse_changes(table)


def _refuse_changes(table: str) -> None:
    """The database itself refuses UPDATE, DELETE (and TRUNCATE) of `table`, whoever asks."""
    message = f"{table} is append-only: add a correcting entry instead"
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation'; END $$""")
        op.execute(f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{message}'); END")


def downgrade() -> None:
    is_postgresql = op.get_bind().dialect.name == "postgresql"
    for table in APPEND_ONLY:
        if is_postgresql:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
    op.drop_index(op.f('ix_journal_entries_event_id'), table_name='journal_entries')
    op.drop_index(op.f('ix_journal_entries_corrects_id'), table_name='journal_entries')
    op.drop_table('journal_entries')
    op.drop_index(op.f('ix_response_decisions_event_id'), table_name='response_decisions')
    op.drop_table('response_decisions')
    op.drop_index(op.f('ix_event_warnings_event_id'), table_name='event_warnings')
    op.drop_table('event_warnings')
    op.drop_index(op.f('ix_events_started_at'), table_name='events')
    op.drop_index('ix_events_kind_status', table_name='events')
    op.drop_table('events')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('department')
    with op.batch_alter_table('api_tokens') as batch:
        batch.drop_column('department')
