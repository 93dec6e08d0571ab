"""Backup history: runs, each target's copy, verifications, and restores (drills, restores, recoveries)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, DateTime, Float, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, utcnow_column


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"   # every target has the artifact
    PARTIAL = "partial"       # at least one target has it, at least one failed
    FAILED = "failed"         # no target has a good artifact


class RunTrigger(StrEnum):
    SCHEDULED = "scheduled"
    MANUAL = "manual"
    SAFETY = "safety"         # taken right before recovering the live database
    CLI = "cli"


class CopyStatus(StrEnum):
    UPLOADED = "uploaded"
    FAILED = "failed"
    PRUNED = "pruned"


class RestoreKind(StrEnum):
    RESTORE = "restore"
    DRILL = "drill"
    RECOVER = "recover"


class RestoreStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def _in(values) -> str:
    return ", ".join(f"'{v.value}'" for v in values)


# The tables whose rows a dump leaves out (their schema is kept): backup history belongs to the live
# database, while every artifact carries its own manifest.
HISTORY_TABLES = ("backup_runs", "backup_copies", "backup_verifications", "restore_runs")


class BackupRun(Base):
    __tablename__ = "backup_runs"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(RunStatus)})", name="status"),
        CheckConstraint(f"trigger IN ({_in(RunTrigger)})", name="trigger"),
        CheckConstraint("size_bytes IS NULL OR size_bytes >= 0", name="size"),
        Index("ix_backup_runs_started_at", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    started_at: Mapped[datetime] = utcnow_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(12), default=RunStatus.RUNNING, server_default=RunStatus.RUNNING.value)
    trigger: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(120))
    database: Mapped[str | None] = mapped_column(String(120))
    server_version: Mapped[str | None] = mapped_column(String(40))
    alembic_revision: Mapped[str | None] = mapped_column(String(40))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    manifest: Mapped[dict | None] = mapped_column(JSONB)


class BackupCopy(Base):
    """One backup's artifact in one storage target: the per-target outcome of a run."""

    __tablename__ = "backup_copies"
    __table_args__ = (
        UniqueConstraint("backup_id", "target", name="uq_backup_copies_backup_target"),
        CheckConstraint(f"status IN ({_in(CopyStatus)})", name="status"),
        CheckConstraint("attempts >= 1", name="attempts"),
        Index("ix_backup_copies_target_status", "target", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    backup_id: Mapped[str] = mapped_column(ForeignKey("backup_runs.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    uploaded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pruned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verify_ok: Mapped[bool | None] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = utcnow_column()


class BackupVerification(Base):
    """One check of one copy: downloaded again, checksum compared, archive listed by pg_restore."""

    __tablename__ = "backup_verifications"
    __table_args__ = (Index("ix_backup_verifications_backup", "backup_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    backup_id: Mapped[str] = mapped_column(ForeignKey("backup_runs.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = utcnow_column()
    ok: Mapped[bool] = mapped_column(Boolean)
    checksum_ok: Mapped[bool | None] = mapped_column(Boolean)
    archive_ok: Mapped[bool | None] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(120))


class RestoreRun(Base):
    """A restore into a new database: an operator's restore, a drill, or a recovery of the live database."""

    __tablename__ = "restore_runs"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(RestoreKind)})", name="kind"),
        CheckConstraint(f"status IN ({_in(RestoreStatus)})", name="status"),
        Index("ix_restore_runs_kind_started", "kind", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    backup_id: Mapped[str] = mapped_column(String(40))  # no FK: a restore may use an artifact the history lacks
    into_database: Mapped[str] = mapped_column(String(120))
    target: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(12), default=RestoreStatus.RUNNING,
                                        server_default=RestoreStatus.RUNNING.value)
    started_at: Mapped[datetime] = utcnow_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    actor: Mapped[str] = mapped_column(String(120))
    report: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    error: Mapped[str | None] = mapped_column(Text)
