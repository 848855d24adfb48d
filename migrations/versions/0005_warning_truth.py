"""warnings: effective time, assumed expiry, jurisdiction, all-clear and intake notes

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 12:40:00
"""
from alembic import op
import sqlalchemy as sa
import fangxun.core.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('warnings', sa.Column('effective', fangxun.core.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('warnings', sa.Column('expires_assumed', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('warnings', sa.Column('jurisdiction', sa.String(length=10), server_default='inside', nullable=False))
    op.add_column('warnings', sa.Column('all_clear', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('warnings', sa.Column('notes', sa.JSON(), server_default='[]', nullable=False))
    # Cancels already held are all-clears.
    op.execute("UPDATE warnings SET all_clear = (msg_type = 'Cancel')")


def downgrade() -> None:
    with op.batch_alter_table('warnings') as batch_op:
        batch_op.drop_column('notes')
        batch_op.drop_column('all_clear')
        batch_op.drop_column('jurisdiction')
        batch_op.drop_column('expires_assumed')
        batch_op.drop_column('effective')
