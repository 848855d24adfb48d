"""notification priority (claimed most urgent colour first) and ack_check_after (escalation rescans)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 03:45:00
"""
from alembic import op
import sqlalchemy as sa
import fangxun.core.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTERs, no batch copy: SQLite adds columns in place, so a full outbox is not rewritten
    # (and notification_attempts keeps pointing at the same table).
    op.add_column('notifications', sa.Column('priority', sa.SmallInteger(), server_default='2', nullable=False))
    op.add_column('notifications', sa.Column('ack_check_after', fangxun.core.db.UTCDateTime(timezone=True),
                                             nullable=True))
    op.drop_index('ix_notifications_due', table_name='notifications')
    op.create_index('ix_notifications_due', 'notifications', ['status', 'channel', 'priority', 'next_attempt_at'],
                    unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notifications') as batch_op:
        batch_op.drop_index('ix_notifications_due')
        batch_op.create_index('ix_notifications_due', ['status', 'channel', 'next_attempt_at'], unique=False)
        batch_op.drop_column('ack_check_after')
        batch_op.drop_column('priority')
