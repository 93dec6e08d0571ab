"""releases: deployments and the release lock

Revision ID: 0009
Revises: 0008
Both tables are new (an expand-only revision), so the downgrade simply drops them.

Create Date: 2026-11-25 09:27:35.565922
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deployments',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('version', sa.String(length=120), nullable=False),
    sa.Column('commit', sa.String(length=40), nullable=True),
    sa.Column('revision_before', sa.String(length=64), nullable=True),
    sa.Column('revision_after', sa.String(length=64), nullable=True),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), server_default='running', nullable=False),
    sa.Column('duration_seconds', sa.Float(), nullable=True),
    sa.Column('steps', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('backup_id', sa.String(length=64), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('rollback', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.CheckConstraint("status IN ('running', 'succeeded', 'rolled_back', 'failed')", name=op.f('ck_deployments_status')),
    sa.CheckConstraint('duration_seconds IS NULL OR duration_seconds >= 0', name=op.f('ck_deployments_duration')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deployments'))
    )
    op.create_index(op.f('ix_deployments_started_at'), 'deployments', ['started_at'], unique=False)
    op.create_table('release_lock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holder', sa.String(length=120), nullable=False),
    sa.Column('host', sa.String(length=255), server_default='', nullable=False),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.Column('deployment_id', sa.BigInteger(), nullable=True),
    sa.Column('acquired_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('purpose', sa.Text(), server_default='', nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_release_lock_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_release_lock'))
    )


def downgrade() -> None:
    op.drop_table('release_lock')
    op.drop_index(op.f('ix_deployments_started_at'), table_name='deployments')
    op.drop_table('deployments')
