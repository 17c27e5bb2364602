"""a work order's MinHash signature and band keys, computed where it is normalized; a report's work orders by record index (issue 18)

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('minhash', sa.LargeBinary(), nullable=True))
    op.create_index('ix_rwo_report_record', 'report_work_orders', ['report_pk', 'record_index'])


def downgrade() -> None:
    op.drop_index('ix_rwo_report_record', table_name='report_work_orders')
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_column('minhash')
