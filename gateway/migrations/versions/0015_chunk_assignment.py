"""issue assignment chunk by chunk: a chunk's signatures until it is assigned and its tickets a later chunk repeats, a report's chunks assigned and near duplicates, the issues assigned until routing; work orders without their MinHash (issue 18)

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chunks_assigned', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('near_duplicates', sa.Integer(), nullable=False, server_default='0'))
    # Reports past routing are assigned; those before it have no chunk signatures: routing assigns their work orders.
    op.execute("UPDATE reports SET chunks_assigned = chunk_count WHERE state NOT IN ('received', 'normalized')")
    with op.batch_alter_table('report_chunks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('repeated_later', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('signatures', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_column('minhash')
    op.create_table(
        'issue_assignments',
        sa.Column('work_order_pk', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('issue_pk', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('work_order_pk'),
    )


def downgrade() -> None:
    op.drop_table('issue_assignments')
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('minhash', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('report_chunks', schema=None) as batch_op:
        batch_op.drop_column('signatures')
        batch_op.drop_column('repeated_later')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_column('near_duplicates')
        batch_op.drop_column('chunks_assigned')
