"""warnings and notification outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 01:54:13.350469
"""
from alembic import op
import sqlalchemy as sa
import fangxun.core.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('warnings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('identifier', sa.String(length=255), nullable=False),
    sa.Column('sender', sa.String(length=255), nullable=False),
    sa.Column('sent', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('msg_type', sa.String(length=10), nullable=False),
    sa.Column('cap_status', sa.String(length=10), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('references', sa.JSON(), nullable=False),
    sa.Column('event', sa.String(length=50), nullable=False),
    sa.Column('colour', sa.String(length=10), nullable=True),
    sa.Column('severity', sa.String(length=20), nullable=True),
    sa.Column('urgency', sa.String(length=20), nullable=True),
    sa.Column('certainty', sa.String(length=20), nullable=True),
    sa.Column('onset', fangxun.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires', fangxun.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('headline', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('instruction', sa.Text(), nullable=False),
    sa.Column('sender_name', sa.String(length=255), nullable=False),
    sa.Column('language', sa.String(length=20), nullable=False),
    sa.Column('areas', sa.JSON(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('raw', sa.Text(), nullable=True),
    sa.Column('messages', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=True),
    sa.Column('superseded_by_id', sa.Integer(), nullable=True),
    sa.Column('received_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('entered_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['superseded_by_id'], ['warnings.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('identifier', 'sender', 'sent', name='uq_warnings_identity')
    )
    with op.batch_alter_table('warnings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_warnings_status'), ['status'], unique=False)
        batch_op.create_index('ix_warnings_status_expires', ['status', 'expires'], unique=False)
        batch_op.create_index(batch_op.f('ix_warnings_thread_id'), ['thread_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=False),
    sa.Column('recipient_kind', sa.String(length=20), nullable=False),
    sa.Column('recipient_key', sa.String(length=100), nullable=False),
    sa.Column('recipient_name', sa.String(length=100), nullable=False),
    sa.Column('unit_code', sa.String(length=12), nullable=True),
    sa.Column('level', sa.String(length=10), nullable=True),
    sa.Column('channel', sa.String(length=50), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_until', fangxun.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=100), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('ack_token_hash', sa.String(length=64), nullable=False),
    sa.Column('ack_deadline', fangxun.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acked_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acked_via', sa.String(length=50), nullable=True),
    sa.Column('acked_late', sa.Boolean(), nullable=False),
    sa.Column('escalation_step', sa.Integer(), nullable=False),
    sa.Column('escalated_from_id', sa.Integer(), nullable=True),
    sa.Column('reminders_sent', sa.Integer(), nullable=False),
    sa.Column('escalated_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['escalated_from_id'], ['notifications.id'], ),
    sa.ForeignKeyConstraint(['warning_id'], ['warnings.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ack_token_hash'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_ack_due', ['acked_at', 'ack_deadline'], unique=False)
        batch_op.create_index('ix_notifications_due', ['status', 'channel', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_escalated_from_id'), ['escalated_from_id'], unique=False)
        batch_op.create_index('ix_notifications_lease', ['status', 'lease_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_warning_id'), ['warning_id'], unique=False)

    op.create_table('warning_units',
    sa.Column('warning_id', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=12), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('fraction', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['warning_id'], ['warnings.id'], ),
    sa.PrimaryKeyConstraint('warning_id', 'unit_code')
    )
    with op.batch_alter_table('warning_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_warning_units_unit_code'), ['unit_code'], unique=False)

    op.create_table('notification_attempts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=False),
    sa.Column('at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('retry', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('worker', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('notification_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_attempts_notification_id'), ['notification_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('notification_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_attempts_notification_id'))

    op.drop_table('notification_attempts')
    with op.batch_alter_table('warning_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_warning_units_unit_code'))

    op.drop_table('warning_units')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_warning_id'))
        batch_op.drop_index('ix_notifications_lease')
        batch_op.drop_index(batch_op.f('ix_notifications_escalated_from_id'))
        batch_op.drop_index('ix_notifications_due')
        batch_op.drop_index('ix_notifications_ack_due')

    op.drop_table('notifications')
    with op.batch_alter_table('warnings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_warnings_thread_id'))
        batch_op.drop_index('ix_warnings_status_expires')
        batch_op.drop_index(batch_op.f('ix_warnings_status'))

    op.drop_table('warnings')
