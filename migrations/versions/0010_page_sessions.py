"""page_sessions: page sign-ins held on the server, so signing out ends the session everywhere its cookie went

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-21 09:00:00
"""
from alembic import op
import sqlalchemy as sa
import fangxun.core.db


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('page_sessions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index(op.f('ix_page_sessions_user_id'), 'page_sessions', ['user_id'], unique=False)
    op.create_index(op.f('ix_page_sessions_expires_at'), 'page_sessions', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_page_sessions_expires_at'), table_name='page_sessions')
    op.drop_index(op.f('ix_page_sessions_user_id'), table_name='page_sessions')
    op.drop_table('page_sessions')
