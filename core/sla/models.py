"""SLA tables: calendars, policies, per-ticket clock state, breach records and the lead notifications log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, DateTime, Float, ForeignKey, Index, Integer, String,
                        UniqueConstraint)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, utcnow_column


class SlaState(StrEnum):
    """The queue's "SLA state" filter: the column ticket_sla.state holds one of these."""

    OK = "ok"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    PAUSED = "paused"


ANY_PLAN = "any"


class SlaCalendar(Base):
    __tablename__ = "sla_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    # {"mon": [["09:00", "14:00"], ["15:00", "18:00"]], ...}; days absent are closed
    hours: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    holidays: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")  # ["2026-12-25", ...]
    created_at: Mapped[datetime] = utcnow_column()
    updated_at: Mapped[datetime] = utcnow_column()

    def as_dict(self) -> dict:
        return {"timezone": self.timezone, "hours": self.hours or {}, "holidays": self.holidays or []}


class SlaPolicy(Base):
    __tablename__ = "sla_policies"
    __table_args__ = (
        UniqueConstraint("priority", "plan", name="uq_sla_policies_priority_plan"),
        CheckConstraint("priority IN ('high','medium','low')", name="priority"),
        CheckConstraint("plan IN ('any','free','starter','pro','enterprise')", name="plan"),
        CheckConstraint("first_response_minutes > 0 AND resolution_minutes > 0", name="targets"),
        CheckConstraint("warn_before_minutes >= 0", name="warn_before"),
        CheckConstraint("NOT business_hours OR calendar_id IS NOT NULL", name="calendar_needed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    priority: Mapped[str] = mapped_column(String(10))
    plan: Mapped[str] = mapped_column(String(20), default=ANY_PLAN, server_default=ANY_PLAN)
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    warn_before_minutes: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    business_hours: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("sla_calendars.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = utcnow_column()
    updated_at: Mapped[datetime] = utcnow_column()


class TicketSla(Base):
    """One row per ticket: both clocks as computed at computed_at, and the state the sweep keeps current.

    Due and warn instants are stored so the sweep compares them with now() in SQL; they exist only
    while a clock runs. `state` is what the queue filters on (SlaState values).
    """

    __tablename__ = "ticket_sla"
    __table_args__ = (
        CheckConstraint("state IN ('ok','at_risk','breached','paused')", name="state"),
        Index("ix_ticket_sla_state", "state"),
        Index("ix_ticket_sla_active", "active"),
    )

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policies.id", ondelete="SET NULL"))
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("sla_calendars.id", ondelete="SET NULL"))
    fr_target_minutes: Mapped[int] = mapped_column(Integer)
    res_target_minutes: Mapped[int] = mapped_column(Integer)
    warn_before_minutes: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # tickets.updated_at seen when computed: a different value marks the row stale for the sweep
    source_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fr_elapsed_minutes: Mapped[float] = mapped_column(Float)
    fr_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fr_warn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fr_stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fr_breached: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    res_elapsed_minutes: Mapped[float] = mapped_column(Float)
    res_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    res_warn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    res_stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    res_paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    res_breached: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    # the sweep has written the breach event for this target (kept across recomputations)
    fr_breach_logged: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    res_breach_logged: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    # the ticket is open and a clock still runs or is paused (the sweep looks only at these rows)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    state: Mapped[str] = mapped_column(String(10), default=SlaState.OK, server_default="ok")
    updated_at: Mapped[datetime] = utcnow_column()


class SlaBreach(Base):
    """One row per ticket and target that breached: the guard that makes breach events and alerts once-only."""

    __tablename__ = "sla_breaches"
    __table_args__ = (
        CheckConstraint("target IN ('first_response','resolution')", name="target"),
        Index("ix_sla_breaches_at", "at"),
    )

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    target: Mapped[str] = mapped_column(String(20), primary_key=True)
    priority: Mapped[str] = mapped_column(String(10))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    at: Mapped[datetime] = utcnow_column()
    # the mail_outbox row that told the team lead (null when the team has no lead with an address)
    notified_outbox_id: Mapped[int | None] = mapped_column(BigInteger)
    details: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
