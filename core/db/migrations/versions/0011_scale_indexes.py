"""scale: indexes the page queries use at a million tickets

Revision ID: 0011
Revises: 0010
tickets.solved_at (the overview's daily solved series, bug fix time), a covering creation-time index for the
response/resolution KPIs (index-only scans), and feedback_items.created_at (implemented share over all kinds).
Found with EXPLAIN ANALYZE under `python -m core bench pages`.

Create Date: 2026-11-25 10:35:00
"""
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_tickets_solved_at', 'tickets', ['solved_at'], unique=False)
    op.drop_index('ix_tickets_created_at', table_name='tickets')
    op.create_index('ix_tickets_created_at', 'tickets', ['created_at'], unique=False,
                    postgresql_include=['first_response_at', 'solved_at'])
    op.create_index('ix_feedback_items_created_at', 'feedback_items', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_feedback_items_created_at', table_name='feedback_items')
    op.drop_index('ix_tickets_created_at', table_name='tickets')
    op.create_index('ix_tickets_created_at', 'tickets', ['created_at'], unique=False)
    op.drop_index('ix_tickets_solved_at', table_name='tickets')
