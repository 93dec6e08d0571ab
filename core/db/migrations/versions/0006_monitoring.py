"""monitoring: alert triage and notification attempts

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-25 09:20:13.489880
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notification_attempts',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('notification_id', sa.String(length=36), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('target', sa.String(length=300), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('dedup_key', sa.String(length=255), nullable=True),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('duration_ms', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("channel IN ('pagerduty','slack','email')", name=op.f('ck_notification_attempts_channel')),
    sa.CheckConstraint("severity IN ('critical','error','warning','info')", name=op.f('ck_notification_attempts_severity')),
    sa.CheckConstraint("status IN ('sent','failed','not_configured')", name=op.f('ck_notification_attempts_status')),
    sa.CheckConstraint('attempt >= 1', name=op.f('ck_notification_attempts_attempt')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_attempts'))
    )
    op.create_index('ix_notification_attempts_created_at', 'notification_attempts', ['created_at'], unique=False)
    op.create_index(op.f('ix_notification_attempts_notification_id'), 'notification_attempts', ['notification_id'], unique=False)
    op.create_table('alert_triage',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('alertname', sa.String(length=200), nullable=False),
    sa.Column('labels_key', sa.String(length=2000), nullable=False),
    sa.Column('labels', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verdict', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('triaged_by_id', sa.Integer(), nullable=True),
    sa.Column('triaged_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("verdict IN ('actionable','noise')", name=op.f('ck_alert_triage_verdict')),
    sa.CheckConstraint('char_length(note) <= 2000', name=op.f('ck_alert_triage_note_length')),
    sa.ForeignKeyConstraint(['triaged_by_id'], ['users.id'], name=op.f('fk_alert_triage_triaged_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_triage')),
    sa.UniqueConstraint('alertname', 'labels_key', 'starts_at', name=op.f('uq_alert_triage_alertname'))
    )
    op.create_index('ix_alert_triage_starts_at', 'alert_triage', ['starts_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_alert_triage_starts_at', table_name='alert_triage')
    op.drop_table('alert_triage')
    op.drop_index(op.f('ix_notification_attempts_notification_id'), table_name='notification_attempts')
    op.drop_index('ix_notification_attempts_created_at', table_name='notification_attempts')
    op.drop_table('notification_attempts')
