"""contact_absences: a person's 请假 or 出差 and who stands in for them meanwhile

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 18:40:00
"""
from alembic import op
import sqlalchemy as sa
import fangxun.core.db


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contact_absences',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('starts_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('deputy_contact_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['deputy_contact_id'], ['contacts.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_contact_absences_contact_id'), 'contact_absences', ['contact_id'], unique=False)
    op.create_index('ix_contact_absences_ends_at', 'contact_absences', ['ends_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_contact_absences_ends_at', table_name='contact_absences')
    op.drop_index(op.f('ix_contact_absences_contact_id'), table_name='contact_absences')
    op.drop_table('contact_absences')
