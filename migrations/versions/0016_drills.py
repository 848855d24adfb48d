"""drills: the 叫应 drill (演练) and its notifications in the outbox (notifications.drill_id)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-23 09:00:00
"""
from alembic import op
import sqlalchemy as sa
import fangxun.core.db


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('drills',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('scope_code', sa.String(length=12), nullable=False),
    sa.Column('scope_name', sa.String(length=100), nullable=False),
    sa.Column('levels', sa.JSON(), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('deadline_minutes', sa.Integer(), nullable=False),
    sa.Column('started_by', sa.String(length=100), nullable=False),
    sa.Column('started_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', fangxun.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('told', sa.Integer(), nullable=False),
    sa.Column('notifications', sa.Integer(), nullable=False),
    sa.Column('no_contact', sa.Integer(), nullable=False),
    sa.Column('units_without_persons', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_drills_started_at'), 'drills', ['started_at'], unique=False)
    with op.batch_alter_table('notifications') as batch:
        batch.add_column(sa.Column('drill_id', sa.Integer(), nullable=True))
        batch.create_index(batch.f('ix_notifications_drill_id'), ['drill_id'], unique=False)
        batch.create_foreign_key('fk_notifications_drill_id_drills', 'drills', ['drill_id'], ['id'])


def downgrade() -> None:
    op.execute("DELETE FROM notification_attempts WHERE notification_id IN "
               "(SELECT id FROM notifications WHERE drill_id IS NOT NULL)")
    op.execute("DELETE FROM notifications WHERE drill_id IS NOT NULL")
    with op.batch_alter_table('notifications') as batch:
        batch.drop_constraint('fk_notifications_drill_id_drills', type_='foreignkey')
        batch.drop_index(batch.f('ix_notifications_drill_id'))
        batch.drop_column('drill_id')
    op.drop_index(op.f('ix_drills_started_at'), table_name='drills')
    op.drop_table('drills')
