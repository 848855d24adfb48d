"""contacts.landline (固话 of a 责任人 list); audit_records looked up by target and by actor

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 18:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contacts') as batch:
        batch.add_column(sa.Column('landline', sa.String(length=20), nullable=True))
    op.create_index('ix_audit_records_target', 'audit_records', ['target_type', 'target_id'], unique=False)
    op.create_index('ix_audit_records_actor', 'audit_records', ['actor'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_records_actor', table_name='audit_records')
    op.drop_index('ix_audit_records_target', table_name='audit_records')
    with op.batch_alter_table('contacts') as batch:
        batch.drop_column('landline')
