"""Deployments (one row per release attempt, with its steps log), the row naming who holds the release lock, and
the heartbeats of the running console processes (which version runs where)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Float, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, utcnow_column


class DeploymentStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    ROLLED_BACK = "rolled_back"   # a step failed and the rollback brought the previous state back
    FAILED = "failed"             # a step failed before anything changed, or the rollback failed too


def _in(column: str, enum) -> str:
    return f"{column} IN ({', '.join(repr(e.value) for e in enum)})"


class Deployment(Base):
    """One release attempt: version, commit, schema revision before/after, who, when, outcome, steps."""

    __tablename__ = "deployments"
    __table_args__ = (
        CheckConstraint(_in("status", DeploymentStatus), name="status"),
        CheckConstraint("duration_seconds IS NULL OR duration_seconds >= 0", name="duration"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    version: Mapped[str] = mapped_column(String(120))
    commit: Mapped[str | None] = mapped_column(String(40))
    revision_before: Mapped[str | None] = mapped_column(String(64))
    revision_after: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = utcnow_column(index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default=DeploymentStatus.RUNNING.value, server_default="running")
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    # [{"step": "migrations", "ok": true, "message": "...", "seconds": 0.4}, ...]
    steps: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    backup_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)        # why it failed, in one line
    # {"method": "downgrade"|"restore"|"none", "ok": bool, "message": str, "target_revision": ..., ...}
    rollback: Mapped[dict | None] = mapped_column(JSONB)


class ReleaseLock(Base):
    """Who holds the release lock (the lock itself is a PostgreSQL advisory lock); at most one row."""

    __tablename__ = "release_lock"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    holder: Mapped[str] = mapped_column(String(120))
    host: Mapped[str] = mapped_column(String(255), default="", server_default="")
    pid: Mapped[int | None] = mapped_column(Integer)
    deployment_id: Mapped[int | None] = mapped_column(BigInteger)
    acquired_at: Mapped[datetime] = utcnow_column()
    purpose: Mapped[str] = mapped_column(Text, default="", server_default="")


class ProcessKind(StrEnum):
    APP = "app"          # a `streamlit run app.py` replica
    WORKER = "worker"    # a `python -m core worker` process, leader or standby


class ProcessHeartbeat(Base):
    """One running console process: what it is, where, which code; last_seen is refreshed about once a minute.

    A release reads these before a contracting migration (core.releases.heartbeat); rows not refreshed for
    ten minutes belong to processes that are gone and are pruned by the next heartbeat."""

    __tablename__ = "process_heartbeats"
    __table_args__ = (CheckConstraint(_in("kind", ProcessKind), name="kind"),)

    # A random id per process start: a pid reused after a restart is another process.
    instance: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(120))
    commit: Mapped[str | None] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
