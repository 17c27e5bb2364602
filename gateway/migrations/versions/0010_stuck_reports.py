"""reports set aside after repeated failures (poison messages)

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa
import gateway.db.models


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failures', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('last_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('stuck_at', gateway.db.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('state_before_stuck', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        for column in ('state_before_stuck', 'stuck_at', 'last_error', 'failures'):
            batch_op.drop_column(column)
