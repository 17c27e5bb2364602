"""what a 12345 export carries for the loop: ticket type, 处理结果, 办结时间, 处理时限, 企业名称

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa
import gateway.db.models


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ticket_type', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('result_masked', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('closed_at', gateway.db.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('time_limit_days', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('company', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        for column in ('company', 'time_limit_days', 'closed_at', 'result_masked', 'ticket_type'):
            batch_op.drop_column(column)
