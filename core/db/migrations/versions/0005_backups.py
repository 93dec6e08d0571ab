"""backups: backup_runs, backup_copies (per-target outcomes), backup_verifications, restore_runs

Revision ID: 0005
Revises: 0006
Create Date: 2026-11-25 09:15:38.596404
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0005'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('backup_runs',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=12), server_default='running', nullable=False),
    sa.Column('trigger', sa.String(length=12), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('database', sa.String(length=120), nullable=True),
    sa.Column('server_version', sa.String(length=40), nullable=True),
    sa.Column('alembic_revision', sa.String(length=40), nullable=True),
    sa.Column('size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('duration_seconds', sa.Float(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('manifest', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.CheckConstraint("status IN ('running', 'succeeded', 'partial', 'failed')", name=op.f('ck_backup_runs_status')),
    sa.CheckConstraint("trigger IN ('scheduled', 'manual', 'safety', 'cli')", name=op.f('ck_backup_runs_trigger')),
    sa.CheckConstraint('size_bytes IS NULL OR size_bytes >= 0', name=op.f('ck_backup_runs_size')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backup_runs'))
    )
    op.create_index('ix_backup_runs_started_at', 'backup_runs', ['started_at'], unique=False)
    op.create_table('backup_copies',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('backup_id', sa.String(length=40), nullable=False),
    sa.Column('target', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='1', nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('duration_seconds', sa.Float(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pruned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verify_ok', sa.Boolean(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('uploaded', 'failed', 'pruned')", name=op.f('ck_backup_copies_status')),
    sa.CheckConstraint('attempts >= 1', name=op.f('ck_backup_copies_attempts')),
    sa.ForeignKeyConstraint(['backup_id'], ['backup_runs.id'], name=op.f('fk_backup_copies_backup_id_backup_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backup_copies')),
    sa.UniqueConstraint('backup_id', 'target', name='uq_backup_copies_backup_target')
    )
    op.create_index('ix_backup_copies_target_status', 'backup_copies', ['target', 'status'], unique=False)
    op.create_table('backup_verifications',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('backup_id', sa.String(length=40), nullable=False),
    sa.Column('target', sa.String(length=300), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('checksum_ok', sa.Boolean(), nullable=True),
    sa.Column('archive_ok', sa.Boolean(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['backup_id'], ['backup_runs.id'], name=op.f('fk_backup_verifications_backup_id_backup_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backup_verifications'))
    )
    op.create_index('ix_backup_verifications_backup', 'backup_verifications', ['backup_id', 'at'], unique=False)
    op.create_table('restore_runs',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('backup_id', sa.String(length=40), nullable=False),
    sa.Column('into_database', sa.String(length=120), nullable=False),
    sa.Column('target', sa.String(length=300), nullable=True),
    sa.Column('status', sa.String(length=12), server_default='running', nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_seconds', sa.Float(), nullable=True),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('report', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('restore', 'drill', 'recover')", name=op.f('ck_restore_runs_kind')),
    sa.CheckConstraint("status IN ('running', 'succeeded', 'failed')", name=op.f('ck_restore_runs_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_restore_runs'))
    )
    op.create_index('ix_restore_runs_kind_started', 'restore_runs', ['kind', 'started_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_restore_runs_kind_started', table_name='restore_runs')
    op.drop_table('restore_runs')
    op.drop_index('ix_backup_verifications_backup', table_name='backup_verifications')
    op.drop_table('backup_verifications')
    op.drop_index('ix_backup_copies_target_status', table_name='backup_copies')
    op.drop_table('backup_copies')
    op.drop_index('ix_backup_runs_started_at', table_name='backup_runs')
    op.drop_table('backup_runs')
