"""process_heartbeats: each running app replica and worker says which code it runs (releases read it)

Revision ID: 0013
Revises: 0012
A new table only (expand), so the downgrade drops it. Before this revision a release cannot see which
versions run and asks for --previous-stopped before a contracting revision, as it did.

Create Date: 2026-11-30 09:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('process_heartbeats',
    sa.Column('instance', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=120), nullable=False),
    sa.Column('commit', sa.String(length=40), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('app', 'worker')", name=op.f('ck_process_heartbeats_kind')),
    sa.PrimaryKeyConstraint('instance', name=op.f('pk_process_heartbeats'))
    )
    op.create_index(op.f('ix_process_heartbeats_last_seen'), 'process_heartbeats', ['last_seen'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_process_heartbeats_last_seen'), table_name='process_heartbeats')
    op.drop_table('process_heartbeats')
