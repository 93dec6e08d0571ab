"""Backup and drill metrics on the default prometheus_client registry, refreshed from the history tables."""

from __future__ import annotations

from prometheus_client import Gauge
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.backups.models import BackupCopy, BackupRun, CopyStatus, RestoreKind, RestoreRun, RestoreStatus, RunStatus
from core.backups.queries import NOT_FAILED_VERIFICATION

BACKUP_LAST_SUCCESS = Gauge("backup_last_success_timestamp_seconds",
                            "Unix time of the newest backup stored in this target whose copy has not failed "
                            "verification (0 when every stored copy failed it)", ["target"])
BACKUP_SIZE = Gauge("backup_size_bytes", "Size of the newest backup stored in this target", ["target"])
BACKUP_DURATION = Gauge("backup_duration_seconds", "Dump plus upload time of the newest backup in this target",
                        ["target"])
COPY_OK = Gauge("backup_target_last_copy_ok",
                "1 when the newest finished backup's copy to this target was stored, 0 when its upload or its "
                "verification failed", ["target"])
DRILL_STATUS = Gauge("restore_drill_last_status", "1 when the newest restore drill succeeded, 0 when it failed")
DRILL_TIMESTAMP = Gauge("restore_drill_last_timestamp_seconds", "Unix time the newest restore drill finished")
DRILL_DURATION = Gauge("restore_drill_duration_seconds", "Duration of the newest restore drill (the measured recovery time)")


def refresh(session: Session) -> None:
    """Set every gauge from the history (so the worker exports backups started anywhere, even from the page)."""
    newest = (select(BackupCopy.target, func.max(BackupCopy.uploaded_at).label("at"))
              .where(BackupCopy.status.in_([CopyStatus.UPLOADED, CopyStatus.PRUNED]), BackupCopy.uploaded_at.is_not(None),
                     NOT_FAILED_VERIFICATION)
              .group_by(BackupCopy.target).subquery())
    rows = session.execute(
        select(BackupCopy.target, BackupCopy.uploaded_at, BackupCopy.size_bytes, BackupRun.duration_seconds,
               BackupCopy.duration_seconds)
        .join(newest, (newest.c.target == BackupCopy.target) & (newest.c.at == BackupCopy.uploaded_at))
        .join(BackupRun, BackupRun.id == BackupCopy.backup_id)
    ).all()
    for target, at, size, run_duration, copy_duration in rows:
        BACKUP_LAST_SUCCESS.labels(target).set(at.timestamp())
        BACKUP_SIZE.labels(target).set(size or 0)
        BACKUP_DURATION.labels(target).set(run_duration or copy_duration or 0)
    # A target whose stored copies all failed verification has no good backup: 0, never a stale success.
    good = {r[0] for r in rows}
    for target in session.scalars(select(BackupCopy.target).distinct()
                                  .where(BackupCopy.status.in_([CopyStatus.UPLOADED, CopyStatus.PRUNED]))):
        if target not in good:
            BACKUP_LAST_SUCCESS.labels(target).set(0)
    newest_attempt = (select(BackupCopy.target, func.max(BackupRun.started_at).label("at"))
                      .join(BackupRun, BackupRun.id == BackupCopy.backup_id)
                      .where(BackupRun.status != RunStatus.RUNNING,
                             BackupCopy.status.in_([CopyStatus.UPLOADED, CopyStatus.PRUNED, CopyStatus.FAILED]))
                      .group_by(BackupCopy.target).subquery())
    for target, status, verify_ok in session.execute(
        select(BackupCopy.target, BackupCopy.status, BackupCopy.verify_ok)
        .join(BackupRun, BackupRun.id == BackupCopy.backup_id)
        .join(newest_attempt, (newest_attempt.c.target == BackupCopy.target) & (newest_attempt.c.at == BackupRun.started_at))
    ).all():
        COPY_OK.labels(target).set(0 if status == CopyStatus.FAILED or verify_ok is False else 1)
    drill = session.scalars(
        select(RestoreRun).where(RestoreRun.kind == RestoreKind.DRILL, RestoreRun.status != RestoreStatus.RUNNING)
        .order_by(RestoreRun.started_at.desc(), RestoreRun.id.desc()).limit(1)
    ).first()
    if drill is not None:
        DRILL_STATUS.set(1 if drill.status == RestoreStatus.SUCCEEDED else 0)
        DRILL_TIMESTAMP.set((drill.finished_at or drill.started_at).timestamp())
        DRILL_DURATION.set(drill.duration_seconds or 0)
