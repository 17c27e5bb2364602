"""clues forwarded to workstations (转交, issue 19)

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'clue_forwards',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('clue_pk', sa.Integer(), nullable=False),
        sa.Column('workstation', sa.String(length=200), nullable=False),
        sa.Column('committee_id', sa.String(length=64), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['clue_pk'], ['clues.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('clue_pk', 'workstation', name='uq_clue_forward'),
    )
    op.create_index('ix_clue_forward_workstation', 'clue_forwards', ['workstation'])
    op.create_index(op.f('ix_clue_forwards_clue_pk'), 'clue_forwards', ['clue_pk'])


def downgrade() -> None:
    op.drop_index(op.f('ix_clue_forwards_clue_pk'), table_name='clue_forwards')
    op.drop_index('ix_clue_forward_workstation', table_name='clue_forwards')
    op.drop_table('clue_forwards')
