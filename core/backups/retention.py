"""Retention, per target: keep the newest backup of each of the last N days, M weeks and K months that have a
backup (grandfather-father-son, as pgBackRest counts), and that target's newest verified backup."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from core.backups.manifest import valid_backup_id
from core.backups.models import BackupCopy, BackupRun, CopyStatus
from core.backups.storage import StorageError, Target


@dataclass(frozen=True)
class Policy:
    daily: int = 30
    weekly: int = 8
    monthly: int = 12

    def describe(self) -> str:
        return (f"keep the newest backup of each of the last {self.daily} days, {self.weekly} weeks and "
                f"{self.monthly} months that have a backup, in every target (days without a backup, e.g. during "
                f"an outage, do not use up a slot); a target's newest verified copy is never deleted")


@dataclass(frozen=True)
class Candidate:
    backup_id: str
    created_at: datetime
    verified: bool = False


@dataclass
class TargetPlan:
    target: str
    keep: dict[str, list[str]] = field(default_factory=dict)   # backup id -> reasons
    delete: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def created_at_from_id(backup_id: str) -> datetime:
    """The start time encoded in a backup id."""
    return datetime.strptime(backup_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)


def plan(candidates: list[Candidate], *, now: datetime, policy: Policy, tz: str = "UTC") -> tuple[dict[str, list[str]], list[str]]:
    """(keep: id -> reasons, delete: ids) for one target's backups at time now (calendar buckets in tz).

    Slots count periods that have a backup: "last 7 days" keeps the newest backup of each of the 7 most
    recent days on which a backup exists, so an outage never shrinks what is kept."""
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    keep: dict[str, list[str]] = {}
    newest_first = sorted(candidates, key=lambda c: (c.created_at, c.backup_id), reverse=True)
    filled: dict[str, list] = {"daily": [], "weekly": [], "monthly": []}  # periods given a slot, newest first
    limits = {"daily": policy.daily, "weekly": policy.weekly, "monthly": policy.monthly}
    for c in newest_first:
        local = c.created_at.astimezone(zone).date()
        if local > today:
            keep.setdefault(c.backup_id, []).append("newer than the clock")
            continue
        year, week, _ = local.isocalendar()
        periods = {"daily": (local, local.isoformat()), "weekly": ((year, week), f"{year}-W{week:02d}"),
                   "monthly": ((local.year, local.month), f"{local.year}-{local.month:02d}")}
        for kind, (period, label) in periods.items():
            # Newest first, so the first backup seen in a period is its newest, and periods come newest first.
            if period not in filled[kind] and len(filled[kind]) < limits[kind]:
                filled[kind].append(period)
                keep.setdefault(c.backup_id, []).append(f"{kind} {label}")
    verified = [c for c in newest_first if c.verified]
    if verified:
        keep.setdefault(verified[0].backup_id, []).append("newest verified backup")
    delete = [c.backup_id for c in newest_first if c.backup_id not in keep]
    return keep, delete


def prune(*, url: str, targets: list[Target], dry_run: bool, now: datetime | None = None,
          policy: Policy | None = None, tz: str | None = None) -> list[TargetPlan]:
    """Apply the policy to each target (or only list what it would delete, with dry_run)."""
    from core.config import get_settings
    from core.db import session_scope

    now = now or datetime.now(timezone.utc)
    policy = policy or Policy()
    tz = tz or get_settings().business_timezone
    # Each target's own verification: another target's good copy does not protect this one's.
    verified: dict[str, set[str]] = {}
    with session_scope(url) as s:
        for name, bid in s.execute(select(BackupCopy.target, BackupCopy.backup_id)
                                   .where(BackupCopy.verify_ok.is_(True))):
            verified.setdefault(name, set()).add(bid)
        # Ids carry whole seconds; the recorded start orders two backups taken in the same second.
        started = dict(s.execute(select(BackupRun.id, BackupRun.started_at)).all())
    plans: list[TargetPlan] = []
    for target in targets:
        tp = TargetPlan(target.name)
        plans.append(tp)
        try:
            ids = [b for b in target.backup_ids() if valid_backup_id(b)]
        except StorageError as exc:
            tp.errors.append(str(exc))
            continue
        cands = [Candidate(b, started.get(b) or created_at_from_id(b), b in verified.get(target.name, set()))
                 for b in ids]
        tp.keep, tp.delete = plan(cands, now=now, policy=policy, tz=tz)
        if dry_run:
            continue
        for bid in tp.delete:
            try:
                target.delete_backup(bid)
            except StorageError as exc:
                tp.errors.append(str(exc))
                continue
            tp.deleted.append(bid)
        if tp.deleted:
            with session_scope(url) as s:
                s.execute(update(BackupCopy).where(BackupCopy.target == target.name,
                                                   BackupCopy.backup_id.in_(tp.deleted))
                          .values(status=CopyStatus.PRUNED, pruned_at=now))
    return plans
