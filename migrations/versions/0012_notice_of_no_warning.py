"""notifications.warning_id may be empty: a plan review reminder is a notice of no warning

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-22 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('notifications') as batch:
        batch.alter_column('warning_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE warning_id IS NULL")
    with op.batch_alter_table('notifications') as batch:
        batch.alter_column('warning_id', existing_type=sa.Integer(), nullable=False)
