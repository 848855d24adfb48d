"""warning_expansions: the cursor of writing a warning's notifications in chunks, most urgent first

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 21:40:00
"""
from alembic import op
import sqlalchemy as sa
import fangxun.core.db


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('warning_expansions',
    sa.Column('warning_id', sa.Integer(), nullable=False),
    sa.Column('at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('plan', sa.JSON(), nullable=False),
    sa.Column('written', sa.Integer(), nullable=False),
    sa.Column('chunks', sa.Integer(), nullable=False),
    sa.Column('unreachable', sa.Integer(), nullable=False),
    sa.Column('units_done', sa.Integer(), nullable=False),
    sa.Column('units_total', sa.Integer(), nullable=False),
    sa.Column('units_without_persons', sa.JSON(), nullable=False),
    sa.Column('last_key', sa.JSON(), nullable=True),
    sa.Column('lease_holder', sa.String(length=200), nullable=True),
    sa.Column('lease_until', fangxun.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('stopped', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['warning_id'], ['warnings.id'], ),
    sa.PrimaryKeyConstraint('warning_id')
    )
    op.create_index(op.f('ix_warning_expansions_finished_at'), 'warning_expansions', ['finished_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_warning_expansions_finished_at'), table_name='warning_expansions')
    op.drop_table('warning_expansions')
