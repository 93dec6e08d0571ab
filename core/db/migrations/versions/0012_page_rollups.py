"""page_rollups: results the worker pre-computes (feedback themes), served while their inputs are unchanged

Revision ID: 0012
Revises: 0011
A new table only (expand), so the downgrade drops it.

Create Date: 2026-11-25 10:45:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('page_rollups',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('fingerprint', sa.String(length=200), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_page_rollups'))
    )


def downgrade() -> None:
    op.drop_table('page_rollups')
