"""quarterly topics and evaluated results of the office's pages (issue 19: 季度议题, 评 and /public/results)

Revision ID: 0014
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'quarter_topics',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('quarter', sa.String(length=7), nullable=False),
        sa.Column('clue_pk', sa.Integer(), nullable=False),
        sa.Column('topic_pk', sa.Integer(), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('marked_by', sa.String(length=64), nullable=False),
        sa.Column('marked_at', sa.DateTime(), nullable=False),
        sa.Column('final', sa.Boolean(), nullable=False),
        sa.Column('final_by', sa.String(length=64), nullable=True),
        sa.Column('final_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['clue_pk'], ['clues.id']),
        sa.ForeignKeyConstraint(['topic_pk'], ['topics.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('quarter', 'clue_pk', name='uq_quarter_topic'),
    )
    op.create_index('ix_quarter_topics_quarter', 'quarter_topics', ['quarter'])
    op.create_table(
        'result_evaluations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('clue_pk', sa.Integer(), nullable=False),
        sa.Column('rating', sa.String(length=16), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('evaluated_by', sa.String(length=64), nullable=False),
        sa.Column('evaluated_at', sa.DateTime(), nullable=False),
        sa.Column('published', sa.Boolean(), nullable=False),
        sa.Column('published_by', sa.String(length=64), nullable=True),
        sa.Column('published_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['clue_pk'], ['clues.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('clue_pk'),
    )


def downgrade() -> None:
    op.drop_table('result_evaluations')
    op.drop_index('ix_quarter_topics_quarter', table_name='quarter_topics')
    op.drop_table('quarter_topics')
