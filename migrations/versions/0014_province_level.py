"""The province level: admin_units.province_code, so a province's subtree is one indexed equality

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 19:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('admin_units', sa.Column('province_code', sa.String(length=12), nullable=True))
    op.create_index('ix_admin_units_province_code', 'admin_units', ['province_code'], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM admin_units WHERE level = 'province'")
    op.drop_index('ix_admin_units_province_code', table_name='admin_units')
    with op.batch_alter_table('admin_units') as batch:
        batch.drop_column('province_code')
