"""dispatch_workers: running dispatchers and their heartbeats; notifications.attempt_started_at marks a send begun

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-20 09:00:00
"""
from alembic import op
import sqlalchemy as sa
import fangxun.core.db


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dispatch_workers',
    sa.Column('id', sa.String(length=100), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('beat_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.add_column('notifications', sa.Column('attempt_started_at', fangxun.core.db.UTCDateTime(timezone=True),
                                             nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notifications') as batch:
        batch.drop_column('attempt_started_at')
    op.drop_table('dispatch_workers')
