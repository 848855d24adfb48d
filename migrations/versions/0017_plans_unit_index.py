"""plans: drop ix_plans_unit_code, which uq_plans_unit_kind (unit_code, kind) already serves; a province's plan import
maintained both for every row

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 22:00:00
"""
from alembic import op


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plans_unit_code'))


def downgrade() -> None:
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plans_unit_code'), ['unit_code'], unique=False)
