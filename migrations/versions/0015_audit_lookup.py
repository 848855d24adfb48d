"""audit_records looked up by target (a contact's history) and by actor

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 18:40:00
"""
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_audit_records_target', 'audit_records', ['target_type', 'target_id'], unique=False)
    op.create_index('ix_audit_records_actor', 'audit_records', ['actor'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_records_actor', table_name='audit_records')
    op.drop_index('ix_audit_records_target', table_name='audit_records')
