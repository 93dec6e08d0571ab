"""channels: processed mail, attachments, channel settings, provider links, cursors and sync runs

Revision ID: 0008
Revises: 0004
Create Date: 2026-11-25 09:27:25.018327
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('channel_settings',
    sa.Column('key', sa.String(length=20), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('config', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=True),
    sa.CheckConstraint("key IN ('mailbox','zendesk','front')", name=op.f('ck_channel_settings_key')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_channel_settings'))
    )
    op.create_table('provider_cursors',
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('cursor', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('provider', 'direction', name=op.f('pk_provider_cursors'))
    )
    op.create_table('provider_links',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('local_id', sa.BigInteger(), nullable=False),
    sa.Column('remote_id', sa.String(length=120), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('ticket','user','comment','note')", name=op.f('ck_provider_links_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_links')),
    sa.UniqueConstraint('provider', 'kind', 'remote_id', name='uq_provider_links_remote')
    )
    op.create_index('ix_provider_links_local', 'provider_links', ['provider', 'kind', 'local_id'], unique=False)
    op.create_table('sync_runs',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=10), server_default='running', nullable=False),
    sa.Column('counts', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('running','ok','failed')", name=op.f('ck_sync_runs_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_runs'))
    )
    op.create_index('ix_sync_runs_provider_started', 'sync_runs', ['provider', 'started_at'], unique=False)
    op.create_table('channel_messages',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('mailbox', sa.String(length=300), nullable=False),
    sa.Column('message_key', sa.String(length=300), nullable=False),
    sa.Column('message_id', sa.String(length=300), nullable=True),
    sa.Column('uid', sa.BigInteger(), nullable=True),
    sa.Column('uidvalidity', sa.BigInteger(), nullable=True),
    sa.Column('from_addr', sa.String(length=254), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=True),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('ticket_id', sa.BigInteger(), nullable=True),
    sa.Column('event_id', sa.BigInteger(), nullable=True),
    sa.Column('size', sa.Integer(), server_default='0', nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("outcome IN ('ticket','reply','skipped')", name=op.f('ck_channel_messages_outcome')),
    sa.ForeignKeyConstraint(['event_id'], ['ticket_events.id'], name=op.f('fk_channel_messages_event_id_ticket_events'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_channel_messages_ticket_id_tickets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_messages')),
    sa.UniqueConstraint('mailbox', 'message_key', name='uq_channel_messages_mailbox_key')
    )
    op.create_index(op.f('ix_channel_messages_message_id'), 'channel_messages', ['message_id'], unique=False)
    op.create_index('ix_channel_messages_processed_at', 'channel_messages', ['processed_at'], unique=False)
    op.create_index(op.f('ix_channel_messages_ticket_id'), 'channel_messages', ['ticket_id'], unique=False)
    op.create_table('ticket_attachments',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('ticket_id', sa.BigInteger(), nullable=False),
    sa.Column('event_id', sa.BigInteger(), nullable=True),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=127), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('stored', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('size >= 0', name=op.f('ck_ticket_attachments_size')),
    sa.ForeignKeyConstraint(['event_id'], ['ticket_events.id'], name=op.f('fk_ticket_attachments_event_id_ticket_events'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['channel_messages.id'], name=op.f('fk_ticket_attachments_message_id_channel_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_attachments_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_attachments'))
    )
    op.create_index(op.f('ix_ticket_attachments_ticket_id'), 'ticket_attachments', ['ticket_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ticket_attachments_ticket_id'), table_name='ticket_attachments')
    op.drop_table('ticket_attachments')
    op.drop_index(op.f('ix_channel_messages_ticket_id'), table_name='channel_messages')
    op.drop_index('ix_channel_messages_processed_at', table_name='channel_messages')
    op.drop_index(op.f('ix_channel_messages_message_id'), table_name='channel_messages')
    op.drop_table('channel_messages')
    op.drop_index('ix_sync_runs_provider_started', table_name='sync_runs')
    op.drop_table('sync_runs')
    op.drop_index('ix_provider_links_local', table_name='provider_links')
    op.drop_table('provider_links')
    op.drop_table('provider_cursors')
    op.drop_table('channel_settings')
