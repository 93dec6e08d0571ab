"""Feature flags in PostgreSQL: flags, their per-environment state, segments, versions and schedules."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db.base import Base, utcnow_column


class FlagType(StrEnum):
    RELEASE = "release"
    EXPERIMENT = "experiment"
    OPERATIONAL = "operational"
    KILL_SWITCH = "kill-switch"
    PERMISSION = "permission"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class ScheduleAction(StrEnum):
    ENABLE = "enable"
    DISABLE = "disable"
    SET_ROLLOUT = "set_rollout"


class ScheduleStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


def _in(column: str, enum) -> str:
    return f"{column} IN ({', '.join(repr(e.value) for e in enum)})"


class Flag(Base):
    __tablename__ = "flags"
    __table_args__ = (
        CheckConstraint(_in("type", FlagType), name="type"),
        CheckConstraint("char_length(name) BETWEEN 1 AND 100", name="name_length"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    type: Mapped[str] = mapped_column(String(20), default=FlagType.RELEASE.value, server_default="release")
    variants: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    dependencies: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = utcnow_column()
    updated_at: Mapped[datetime] = utcnow_column()

    environments: Mapped[list[FlagEnvironment]] = relationship(
        back_populates="flag", cascade="all, delete-orphan", order_by="FlagEnvironment.environment", lazy="selectin")


class FlagEnvironment(Base):
    """A flag's switch and strategies (with constraints, segments and strategy variants) in one environment."""

    __tablename__ = "flag_environments"
    __table_args__ = (CheckConstraint(_in("environment", Environment), name="environment"),)

    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id", ondelete="CASCADE"), primary_key=True)
    environment: Mapped[str] = mapped_column(String(20), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    strategies: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")

    flag: Mapped[Flag] = relationship(back_populates="environments")


class FlagVersion(Base):
    """One saved state of a flag: who, when, why, and the full snapshot (history, diffs and revert)."""

    __tablename__ = "flag_versions"
    __table_args__ = (UniqueConstraint("flag_id", "version", name="uq_flag_versions_flag_version"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    snapshot: Mapped[dict] = mapped_column(JSONB)
    created_at: Mapped[datetime] = utcnow_column()


class FlagSegment(Base):
    """A reusable, named list of constraints that strategies reference by id."""

    __tablename__ = "flag_segments"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    constraints: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    created_at: Mapped[datetime] = utcnow_column()
    updated_at: Mapped[datetime] = utcnow_column()


class FlagSchedule(Base):
    """A change to carry out at a given time (enable, disable, set the rollout), run by the worker."""

    __tablename__ = "flag_schedules"
    __table_args__ = (
        CheckConstraint(_in("action", ScheduleAction), name="action"),
        CheckConstraint(_in("status", ScheduleStatus), name="status"),
        CheckConstraint(_in("environment", Environment), name="environment"),
        CheckConstraint("rollout IS NULL OR rollout BETWEEN 0 AND 100", name="rollout"),
        CheckConstraint("action <> 'set_rollout' OR rollout IS NOT NULL", name="rollout_needed"),
        Index("ix_flag_schedules_due", "run_at", postgresql_where="status = 'pending'"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id", ondelete="CASCADE"), index=True)
    environment: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(20))
    rollout: Mapped[int | None] = mapped_column(Integer)
    run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = utcnow_column()
    status: Mapped[str] = mapped_column(String(20), default=ScheduleStatus.PENDING.value, server_default="pending")
    executed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    result: Mapped[str | None] = mapped_column(Text)

    flag: Mapped[Flag] = relationship(lazy="joined")
