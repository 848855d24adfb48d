"""sms_replies: inbound SMS replies (上行短信), and the notifications each reply's number was sent

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10 09:00:00
"""
from alembic import op
import sqlalchemy as sa
import fangxun.core.db


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sms_replies',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('channel', sa.String(length=50), nullable=False),
    sa.Column('sender', sa.String(length=40), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('received_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('is_ack', sa.Boolean(), nullable=False),
    sa.Column('acked_count', sa.Integer(), nullable=False),
    sa.Column('sender_name', sa.String(length=100), nullable=False),
    sa.Column('known', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('journal_entry_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['journal_entry_id'], ['journal_entries.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('fingerprint')
    )
    op.create_index(op.f('ix_sms_replies_phone'), 'sms_replies', ['phone'], unique=False)
    op.create_index(op.f('ix_sms_replies_recorded_at'), 'sms_replies', ['recorded_at'], unique=False)
    op.create_table('sms_reply_notices',
    sa.Column('reply_id', sa.Integer(), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], ),
    sa.ForeignKeyConstraint(['reply_id'], ['sms_replies.id'], ),
    sa.PrimaryKeyConstraint('reply_id', 'notification_id')
    )
    op.create_index(op.f('ix_sms_reply_notices_notification_id'), 'sms_reply_notices', ['notification_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_sms_reply_notices_notification_id'), table_name='sms_reply_notices')
    op.drop_table('sms_reply_notices')
    op.drop_index(op.f('ix_sms_replies_recorded_at'), table_name='sms_replies')
    op.drop_index(op.f('ix_sms_replies_phone'), table_name='sms_replies')
    op.drop_table('sms_replies')
