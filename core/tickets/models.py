"""Tickets and their append-only timeline of events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, DateTime, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, utcnow_column


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint("status IN ('new','open','pending','on_hold','solved','closed')", name="status"),
        CheckConstraint("priority IN ('high','medium','low')", name="priority"),
        CheckConstraint("category IN ('bug','question','feature','performance','billing')", name="category"),
        CheckConstraint("char_length(subject) <= 200", name="subject_length"),
        CheckConstraint("char_length(description) <= 20000", name="description_length"),
        Index("ix_tickets_status_priority_created", "status", "priority", "created_at"),
        Index("ix_tickets_team_status", "team_id", "status"),
        Index("ix_tickets_assignee_status", "assignee_id", "status"),
        # Covering: the overview's response/resolution KPIs read tickets by creation time without the heap.
        Index("ix_tickets_created_at", "created_at", postgresql_include=["first_response_at", "solved_at"]),
        Index("ix_tickets_solved_at", "solved_at"),
        Index("ix_tickets_needs_triage", "needs_triage", postgresql_where=text("needs_triage")),
        Index("ix_tickets_search",
              text("to_tsvector('simple'::regconfig, (((COALESCE(subject, ''::character varying))::text || ' '::text) "
                   "|| COALESCE(description, ''::text)))"),
              postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(120), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    reproducible: Mapped[bool | None] = mapped_column(Boolean)
    page_url: Mapped[str | None] = mapped_column(String(2000))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    language: Mapped[str] = mapped_column(String(5), default="en", server_default="en")
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="new", server_default="new")
    priority: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(20))
    category_source: Mapped[str] = mapped_column(String(10))
    category_confidence: Mapped[float] = mapped_column(Float, default=1.0, server_default="1")
    needs_triage: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = utcnow_column()
    updated_at: Mapped[datetime] = utcnow_column()
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    solved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __mapper_args__ = {"version_id_col": version}

    @property
    def reference(self) -> str:
        return f"AC-{self.id}"


class TicketEvent(Base):
    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket_at", "ticket_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    at: Mapped[datetime] = utcnow_column()
    kind: Mapped[str] = mapped_column(String(30))
    public: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    body: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
