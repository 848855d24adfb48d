"""call_attempts: every voice call of a notification, requested and as the gateway reported it

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10 09:00:00
"""
from alembic import op
import sqlalchemy as sa
import fangxun.core.db


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('call_attempts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.String(length=64), nullable=False),
    sa.Column('call_number', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=50), nullable=False),
    sa.Column('to_number', sa.String(length=500), nullable=False),
    sa.Column('requested_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('request_error', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('answered', sa.Boolean(), nullable=True),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('keys', sa.String(length=32), nullable=False),
    sa.Column('ended_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('result_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('callback', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_id'),
    sa.UniqueConstraint('notification_id', 'call_number', name='uq_call_attempts_number')
    )
    with op.batch_alter_table('call_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_attempts_notification_id'), ['notification_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('call_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_attempts_notification_id'))
    op.drop_table('call_attempts')
