"""Read models for the CLI and the page: backups with their copies, per-target freshness, drills."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.backups.models import BackupCopy, BackupRun, BackupVerification, CopyStatus, RestoreRun

STALE_HOURS = 26
# A stored copy counts as a success unless its latest verification failed (unverified copies count until
# checked: the daily job and "Back up now" verify every new copy right after storing it).
NOT_FAILED_VERIFICATION = BackupCopy.verify_ok.is_not(False)


def copy_is_good(copy: dict) -> bool:
    """Whether one copy (a list_backups row's entry) is stored and has not failed its latest verification."""
    return copy["status"] == CopyStatus.UPLOADED and copy["verify_ok"] is not False


def verification_state(copies: list[dict]) -> str:
    """'verified', 'failed', 'unverified' or 'no copy' for a backup, from its stored copies."""
    stored = [c for c in copies if c["status"] == CopyStatus.UPLOADED]
    if not stored:
        return "no copy"
    if any(c["verify_ok"] is False for c in stored):
        return "failed"
    if all(c["verify_ok"] is True for c in stored):
        return "verified"
    return "unverified"


def list_backups(session: Session, *, limit: int = 200) -> list[dict]:
    """Newest first: each run with its per-target copies and verification state."""
    runs = session.scalars(select(BackupRun).order_by(BackupRun.started_at.desc()).limit(limit)).all()
    ids = [r.id for r in runs]
    copies: dict[str, list[dict]] = {i: [] for i in ids}
    if ids:
        for c in session.scalars(select(BackupCopy).where(BackupCopy.backup_id.in_(ids)).order_by(BackupCopy.id)):
            copies[c.backup_id].append({
                "target": c.target, "status": c.status, "attempts": c.attempts, "error": c.error,
                "uploaded_at": c.uploaded_at.isoformat() if c.uploaded_at else None,
                "verify_ok": c.verify_ok, "verified_at": c.verified_at.isoformat() if c.verified_at else None})
    out = []
    for r in runs:
        out.append({
            "id": r.id, "status": r.status, "trigger": r.trigger, "actor": r.actor,
            "started_at": r.started_at.isoformat(), "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            "duration_seconds": r.duration_seconds, "size_bytes": r.size_bytes, "sha256": r.sha256,
            "alembic_revision": r.alembic_revision, "error": r.error, "copies": copies[r.id],
            "verification": verification_state(copies[r.id]),
            "restorable": any(copy_is_good(c) for c in copies[r.id])})
    return out


def target_freshness(session: Session, targets: list[str], *, now: datetime | None = None) -> list[dict]:
    """Per target: newest good copy (stored, not failed verification), its age in hours against the 26-hour
    threshold, and what went wrong after it: a failed upload, or a newer copy that failed verification."""
    now = now or datetime.now(timezone.utc)
    last_ok = dict(session.execute(
        select(BackupCopy.target, func.max(BackupCopy.uploaded_at))
        .where(BackupCopy.uploaded_at.is_not(None), NOT_FAILED_VERIFICATION)
        .group_by(BackupCopy.target)).all())
    # (when it happened, when it counts from, message, kind): a bad copy counts from its upload.
    problems: dict[str, list[tuple]] = {}
    for t, at, err in session.execute(
            select(BackupCopy.target, BackupCopy.updated_at, BackupCopy.error)
            .where(BackupCopy.status == CopyStatus.FAILED)
            .distinct(BackupCopy.target).order_by(BackupCopy.target, BackupCopy.updated_at.desc())):
        problems.setdefault(t, []).append((at, at, err, "upload"))
    for t, uploaded, verified, bid, err in session.execute(
            select(BackupCopy.target, BackupCopy.uploaded_at, BackupCopy.verified_at, BackupCopy.backup_id,
                   BackupVerification.error)
            .outerjoin(BackupVerification, (BackupVerification.backup_id == BackupCopy.backup_id)
                       & (BackupVerification.target == BackupCopy.target)
                       & (BackupVerification.at == BackupCopy.verified_at))
            .where(BackupCopy.status == CopyStatus.UPLOADED, BackupCopy.verify_ok.is_(False))
            .distinct(BackupCopy.target).order_by(BackupCopy.target, BackupCopy.uploaded_at.desc())):
        problems.setdefault(t, []).append(
            (verified, uploaded, f"backup {bid} failed verification: {err or 'no reason recorded'}", "verification"))
    rows = []
    for t in targets:
        at = last_ok.get(t)
        age = (now - at).total_seconds() / 3600 if at else None
        current = [p for p in problems.get(t, []) if at is None or p[1] > at]
        fail_at, _, fail_err, kind = max(current, key=lambda p: p[1]) if current else (None, None, None, None)
        rows.append({"target": t, "last_success": at, "age_hours": age,
                     "ok": age is not None and age <= STALE_HOURS and not current,
                     "last_failure": fail_at, "last_error": fail_err, "problem": kind})
    return rows


def sizes_over_time(session: Session, *, limit: int = 400) -> list[dict]:
    """(started_at, size_bytes) of stored backups, oldest first."""
    rows = session.execute(select(BackupRun.started_at, BackupRun.size_bytes, BackupRun.id)
                           .where(BackupRun.size_bytes.is_not(None))
                           .order_by(BackupRun.started_at.desc()).limit(limit)).all()
    return [{"started_at": a, "size_bytes": s, "id": i} for a, s, i in reversed(rows)]


def presence(session: Session, targets: list[str], *, limit: int = 60) -> list[dict]:
    """For recent backups: each target's copy status ('uploaded', 'failed', 'pruned' or 'missing')."""
    runs = session.execute(select(BackupRun.id, BackupRun.status).order_by(BackupRun.started_at.desc())
                           .limit(limit)).all()
    ids = [r.id for r in runs]
    status = {(b, t): s for b, t, s in session.execute(
        select(BackupCopy.backup_id, BackupCopy.target, BackupCopy.status).where(BackupCopy.backup_id.in_(ids)))}
    return [{"backup": b, "run": rs, **{t: status.get((b, t), "missing") for t in targets}} for b, rs in runs]


def restores(session: Session, *, limit: int = 50) -> list[dict]:
    """Drills, restores and recoveries, newest first, with their measured durations."""
    rows = session.scalars(select(RestoreRun).order_by(RestoreRun.started_at.desc()).limit(limit)).all()
    return [{"id": r.id, "kind": r.kind, "backup_id": r.backup_id, "into": r.into_database, "status": r.status,
             "started_at": r.started_at, "duration_seconds": r.duration_seconds, "target": r.target,
             "actor": r.actor, "error": r.error} for r in rows]
