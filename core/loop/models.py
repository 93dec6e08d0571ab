"""Closing the loop: macros and their uses, roadmap notices, fix links, what each release did to tickets."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, utcnow_column


class MacroLanguage(StrEnum):
    EN = "en"
    ES = "es"


class RoadmapChange(StrEnum):
    IN_PROGRESS = "in_progress"
    SHIPPED = "shipped"


class FixSource(StrEnum):
    MANUAL = "manual"            # an agent linked the ticket to a commit or a release item
    COMMIT_MESSAGE = "commit"    # a commit message in the release named the ticket (AC-1234)


class FixOutcome(StrEnum):
    SOLVED = "solved"                  # the release solved the ticket
    ALREADY_SOLVED = "already_solved"  # the ticket was solved or closed already; its requester is told only
    REOPENED = "reopened"              # the release was rolled back; the ticket it solved is open again
    NOT_FOUND = "not_found"            # a commit named a ticket that does not exist
    NOT_BUG = "not_bug"                # a commit named a ticket that is not a bug


def _in(column: str, enum) -> str:
    return f"{column} IN ({', '.join(repr(e.value) for e in enum)})"


class Macro(Base):
    """A saved reply: body with {placeholders}, an optional status change and documentation links."""

    __tablename__ = "macros"
    __table_args__ = (
        CheckConstraint(_in("language", MacroLanguage), name="language"),
        CheckConstraint("char_length(title) BETWEEN 1 AND 200", name="title_length"),
        CheckConstraint("char_length(body) BETWEEN 1 AND 20000", name="body_length"),
        CheckConstraint("status IS NULL OR status IN ('open','pending','on_hold','solved')", name="status"),
        CheckConstraint("usage_count >= 0", name="usage_count"),
        UniqueConstraint("title", "language", name="uq_macros_title_language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(5), default=MacroLanguage.EN, server_default="en")
    status: Mapped[str | None] = mapped_column(String(20))
    # [{"title": "Exporting data", "url": "https://docs.example.com/export"}, ...]
    doc_links: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    usage_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = utcnow_column()
    updated_at: Mapped[datetime] = utcnow_column()


class MacroUse(Base):
    """One application of a macro to a ticket (the reply event it produced)."""

    __tablename__ = "macro_uses"
    __table_args__ = (Index("ix_macro_uses_macro_at", "macro_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    macro_id: Mapped[int] = mapped_column(ForeignKey("macros.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_events.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = utcnow_column()


class RoadmapNotice(Base):
    """A person told that a roadmap item moved (in progress, shipped): at most one per person, item and change."""

    __tablename__ = "roadmap_notices"
    __table_args__ = (
        CheckConstraint(_in("change", RoadmapChange), name="change"),
        UniqueConstraint("roadmap_item_id", "contact_id", "change", name="uq_roadmap_notices_item_contact_change"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    roadmap_item_id: Mapped[int] = mapped_column(ForeignKey("roadmap_items.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    change: Mapped[str] = mapped_column(String(20))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    feedback_item_id: Mapped[int | None] = mapped_column(ForeignKey("feedback_items.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(Text)
    mail_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = utcnow_column()


class TicketFix(Base):
    """A bug ticket linked to the fix (a commit or a release item); `deployment_id` is set once it is live."""

    __tablename__ = "ticket_fixes"
    __table_args__ = (
        CheckConstraint("(commit_sha IS NOT NULL) OR (release_item IS NOT NULL)", name="target"),
        CheckConstraint("commit_sha IS NULL OR commit_sha ~ '^[0-9a-f]{7,40}$'", name="commit_sha"),
        CheckConstraint(_in("source", FixSource), name="source"),
        Index("uq_ticket_fixes_ticket_commit", "ticket_id", "commit_sha", unique=True,
              postgresql_where=text("commit_sha IS NOT NULL")),
        Index("uq_ticket_fixes_ticket_item", "ticket_id", "release_item", unique=True,
              postgresql_where=text("commit_sha IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    commit_sha: Mapped[str | None] = mapped_column(String(40))
    release_item: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(10), default=FixSource.MANUAL, server_default="manual")
    linked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    linked_at: Mapped[datetime] = utcnow_column()
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployments.id", ondelete="SET NULL"), index=True)
    deployed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReleaseTicket(Base):
    """What one deployment did to one ticket reference (solved, reopened, or a bad reference left alone)."""

    __tablename__ = "release_tickets"
    __table_args__ = (
        CheckConstraint(_in("outcome", FixOutcome), name="outcome"),
        Index("ix_release_tickets_deployment", "deployment_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id", ondelete="CASCADE"))
    reference: Mapped[str] = mapped_column(String(40))             # "AC-1234"
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    commit_sha: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = utcnow_column()


class FixNotice(Base):
    """The one "your fix is live" message a ticket's requester gets (never a second, even after a rollback)."""

    __tablename__ = "fix_notices"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployments.id", ondelete="SET NULL"))
    mail_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = utcnow_column()
