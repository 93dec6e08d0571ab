"""What the console keeps that Prometheus cannot: triage verdicts on alert intervals and notification attempts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, utcnow_column


class Verdict(StrEnum):
    ACTIONABLE = "actionable"
    NOISE = "noise"


class Channel(StrEnum):
    PAGERDUTY = "pagerduty"
    SLACK = "slack"
    EMAIL = "email"


class Severity(StrEnum):
    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class AttemptStatus(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    NOT_CONFIGURED = "not_configured"


class AlertTriage(Base):
    """A person's verdict on one firing interval of one alert (identified by name, labels and start)."""

    __tablename__ = "alert_triage"
    __table_args__ = (
        UniqueConstraint("alertname", "labels_key", "starts_at"),
        CheckConstraint("verdict IN ('actionable','noise')", name="verdict"),
        CheckConstraint("char_length(note) <= 2000", name="note_length"),
        Index("ix_alert_triage_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    alertname: Mapped[str] = mapped_column(String(200))
    labels_key: Mapped[str] = mapped_column(String(2000))
    labels: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verdict: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    triaged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    triaged_at: Mapped[datetime] = utcnow_column()


class NotificationAttempt(Base):
    """One delivery attempt of one notification (a notification has 1..n attempts sharing notification_id)."""

    __tablename__ = "notification_attempts"
    __table_args__ = (
        CheckConstraint("channel IN ('pagerduty','slack','email')", name="channel"),
        CheckConstraint("status IN ('sent','failed','not_configured')", name="status"),
        CheckConstraint("severity IN ('critical','error','warning','info')", name="severity"),
        CheckConstraint("attempt >= 1", name="attempt"),
        Index("ix_notification_attempts_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    notification_id: Mapped[str] = mapped_column(String(36), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(300))
    severity: Mapped[str] = mapped_column(String(10))
    dedup_key: Mapped[str | None] = mapped_column(String(255))
    attempt: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    http_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = utcnow_column()
