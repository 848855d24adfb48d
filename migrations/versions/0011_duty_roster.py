"""duty_roster: who is on duty at the city duty room and each department desk, per day and 班次

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-22 09:00:00
"""
from alembic import op
import sqlalchemy as sa
import fangxun.core.db


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('duty_roster',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('desk', sa.String(length=64), nullable=False),
    sa.Column('duty_date', sa.Date(), nullable=False),
    sa.Column('shift', sa.String(length=8), nullable=False),
    sa.Column('officer_name', sa.String(length=50), nullable=False),
    sa.Column('officer_phone', sa.String(length=32), nullable=False),
    sa.Column('leader_name', sa.String(length=50), nullable=False),
    sa.Column('leader_phone', sa.String(length=32), nullable=False),
    sa.Column('imported_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('desk', 'duty_date', 'shift', name='uq_duty_roster_desk_day_shift')
    )
    op.create_index(op.f('ix_duty_roster_duty_date'), 'duty_roster', ['duty_date'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_duty_roster_duty_date'), table_name='duty_roster')
    op.drop_table('duty_roster')
