"""Channel records: processed mail, attachments, channel settings, provider links, cursors and sync runs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, LargeBinary,
                        String, Text, UniqueConstraint)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, utcnow_column


class Provider(StrEnum):
    MAILBOX = "mailbox"
    NATIVE = "native"
    ZENDESK = "zendesk"
    FRONT = "front"


class Outcome(StrEnum):
    TICKET = "ticket"
    REPLY = "reply"
    SKIPPED = "skipped"


class RunStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"


class LinkKind(StrEnum):
    TICKET = "ticket"      # local ticket id <-> remote ticket / conversation id
    USER = "user"          # local staff user id <-> remote agent / teammate id
    COMMENT = "comment"    # local ticket event id <-> remote comment / message id (synced in)
    NOTE = "note"          # local internal-note event id <-> remote private comment (synced out)


class ChannelSetting(Base):
    """Non-secret configuration of one channel (secrets stay in the environment)."""

    __tablename__ = "channel_settings"
    __table_args__ = (CheckConstraint("key IN ('mailbox','zendesk','front')", name="key"),)

    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    config: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    updated_at: Mapped[datetime] = utcnow_column()
    updated_by: Mapped[str | None] = mapped_column(String(120))


class ProcessedMessage(Base):
    """One message read from a mailbox and what became of it; the key that makes intake idempotent."""

    __tablename__ = "channel_messages"
    __table_args__ = (
        UniqueConstraint("mailbox", "message_key", name="uq_channel_messages_mailbox_key"),
        CheckConstraint("outcome IN ('ticket','reply','skipped')", name="outcome"),
        Index("ix_channel_messages_processed_at", "processed_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(300))
    # The Message-ID, or "uid:<uidvalidity>:<uid>" for a message without one.
    message_key: Mapped[str] = mapped_column(String(300))
    message_id: Mapped[str | None] = mapped_column(String(300), index=True)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    from_addr: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(300))
    outcome: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_events.id", ondelete="SET NULL"))
    size: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    processed_at: Mapped[datetime] = utcnow_column()


class TicketAttachment(Base):
    """A file that came with a ticket; bytes kept in the table up to the size limit, else refused with a note."""

    __tablename__ = "ticket_attachments"
    __table_args__ = (CheckConstraint("size >= 0", name="size"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_events.id", ondelete="SET NULL"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("channel_messages.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    stored: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = utcnow_column()


class ProviderLink(Base):
    """An Aftercare id paired with a provider's id (tickets, agents, comments, pushed notes)."""

    __tablename__ = "provider_links"
    __table_args__ = (
        UniqueConstraint("provider", "kind", "remote_id", name="uq_provider_links_remote"),
        Index("ix_provider_links_local", "provider", "kind", "local_id"),
        CheckConstraint("kind IN ('ticket','user','comment','note')", name="kind"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))
    local_id: Mapped[int] = mapped_column(BigInteger)
    remote_id: Mapped[str] = mapped_column(String(120))
    data: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    updated_at: Mapped[datetime] = utcnow_column()


class SyncCursor(Base):
    """Where the next pass of a provider picks up (`direction` is 'in' or 'out')."""

    __tablename__ = "provider_cursors"

    provider: Mapped[str] = mapped_column(String(20), primary_key=True)
    direction: Mapped[str] = mapped_column(String(3), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = utcnow_column()


class SyncRun(Base):
    """One pass of the mailbox or a provider: when, how it went, what it counted, and the error if any."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        CheckConstraint("status IN ('running','ok','failed')", name="status"),
        Index("ix_sync_runs_provider_started", "provider", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = utcnow_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(10), default=RunStatus.RUNNING, server_default="running")
    counts: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    error: Mapped[str | None] = mapped_column(Text)
