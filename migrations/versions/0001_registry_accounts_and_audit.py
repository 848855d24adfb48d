"""registry, accounts and audit

Revision ID: 0001
Revises: 
Create Date: 2026-11-27 01:01:35.234624
"""
from alembic import op
import sqlalchemy as sa
import fangxun.core.db


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('admin_units',
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('parent_code', sa.String(length=12), nullable=True),
    sa.Column('city_code', sa.String(length=12), nullable=True),
    sa.Column('district_code', sa.String(length=12), nullable=True),
    sa.Column('township_code', sa.String(length=12), nullable=True),
    sa.Column('population', sa.Integer(), nullable=True),
    sa.Column('geometry', sa.LargeBinary(), nullable=True),
    sa.Column('geometry_synthetic', sa.Boolean(), nullable=False),
    sa.Column('updated_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    with op.batch_alter_table('admin_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_units_city_code'), ['city_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_admin_units_district_code'), ['district_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_admin_units_level'), ['level'], unique=False)
        batch_op.create_index(batch_op.f('ix_admin_units_parent_code'), ['parent_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_admin_units_township_code'), ['township_code'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('created_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_table('app_secrets',
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('audit_records',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('target_type', sa.String(length=30), nullable=False),
    sa.Column('target_id', sa.String(length=50), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_records_at'), ['at'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=50), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('plans',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('unit_code', sa.String(length=12), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('owner_org', sa.String(length=200), nullable=False),
    sa.Column('approved_on', sa.Date(), nullable=True),
    sa.Column('last_reviewed_on', sa.Date(), nullable=True),
    sa.Column('review_cycle_months', sa.Integer(), nullable=False),
    sa.Column('next_review_due', sa.Date(), nullable=True),
    sa.Column('lifecycle', sa.String(length=12), nullable=False),
    sa.Column('version', sa.String(length=20), nullable=False),
    sa.Column('created_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_code'], ['admin_units.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('unit_code', 'kind', name='uq_plans_unit_kind')
    )
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.create_index('ix_plans_kind_due', ['kind', 'next_review_due'], unique=False)
        batch_op.create_index(batch_op.f('ix_plans_next_review_due'), ['next_review_due'], unique=False)
        batch_op.create_index(batch_op.f('ix_plans_unit_code'), ['unit_code'], unique=False)

    op.create_table('contacts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('unit_code', sa.String(length=12), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('position', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_code'], ['admin_units.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_unit_code'), ['unit_code'], unique=False)

    op.create_table('plan_revisions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('revised_on', sa.Date(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('version', sa.String(length=20), nullable=False),
    sa.Column('entered_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('plan_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_revisions_plan_id'), ['plan_id'], unique=False)

    op.create_table('shelters',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('unit_code', sa.String(length=12), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_code'], ['admin_units.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('shelters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shelters_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shelters_unit_code'), ['unit_code'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('shelters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shelters_unit_code'))
        batch_op.drop_index(batch_op.f('ix_shelters_plan_id'))

    op.drop_table('shelters')
    with op.batch_alter_table('plan_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_revisions_plan_id'))

    op.drop_table('plan_revisions')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_unit_code'))
        batch_op.drop_index(batch_op.f('ix_contacts_plan_id'))

    op.drop_table('contacts')
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plans_unit_code'))
        batch_op.drop_index(batch_op.f('ix_plans_next_review_due'))
        batch_op.drop_index('ix_plans_kind_due')

    op.drop_table('plans')
    op.drop_table('users')
    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_records_at'))

    op.drop_table('audit_records')
    op.drop_table('app_secrets')
    op.drop_table('api_tokens')
    with op.batch_alter_table('admin_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_admin_units_township_code'))
        batch_op.drop_index(batch_op.f('ix_admin_units_parent_code'))
        batch_op.drop_index(batch_op.f('ix_admin_units_level'))
        batch_op.drop_index(batch_op.f('ix_admin_units_district_code'))
        batch_op.drop_index(batch_op.f('ix_admin_units_city_code'))

    op.drop_table('admin_units')
