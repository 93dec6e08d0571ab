"""Restore drills: restore the newest backup into a scratch database, verify it, drop it, record the time."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from core.backups import metrics
from core.backups.models import BackupCopy, BackupRun, CopyStatus, RestoreKind, RunStatus
from core.backups.queries import NOT_FAILED_VERIFICATION
from core.backups.restore import RestoreError, RestoreReport, drop_database, restore_backup
from core.backups.storage import StorageError, Target


def newest_backup_id(*, url: str, targets: list[Target]) -> str | None:
    """The newest backup with a stored copy that has not failed verification: from the history, else from the
    targets' listings (leaving out backups whose recorded copies failed verification)."""
    from core.db import session_scope

    names = [t.name for t in targets]
    with session_scope(url) as s:
        bid = s.scalar(
            select(BackupRun.id).join(BackupCopy, BackupCopy.backup_id == BackupRun.id)
            .where(BackupRun.status.in_([RunStatus.SUCCEEDED, RunStatus.PARTIAL]),
                   BackupCopy.status == CopyStatus.UPLOADED, NOT_FAILED_VERIFICATION, BackupCopy.target.in_(names))
            .order_by(BackupRun.started_at.desc()).limit(1))
        bad = set(s.scalars(select(BackupCopy.backup_id).where(BackupCopy.verify_ok.is_(False))))
    if bid:
        return bid
    ids: set[str] = set()
    for t in targets:
        try:
            ids.update(t.backup_ids())
        except StorageError:
            continue
    ids -= bad
    return max(ids) if ids else None


def run_drill(*, url: str, targets: list[Target], actor: str, backup_id: str | None = None) -> RestoreReport:
    """Restore the newest backup into a scratch database, compare it with its manifest, drop it, record the result."""
    from core.db import session_scope

    backup_id = backup_id or newest_backup_id(url=url, targets=targets)
    if backup_id is None:
        raise RestoreError("no backup to drill (none is stored, or every stored copy failed verification): "
                           "run `python -m core backup run` first")
    scratch = f"drill_{backup_id[:15].lower()}_{secrets.token_hex(3)}"
    try:
        return restore_backup(url=url, backup_id=backup_id, into=scratch, targets=targets, actor=actor,
                              kind=RestoreKind.DRILL)
    finally:
        drop_database(url, scratch)
        try:
            with session_scope(url) as s:
                metrics.refresh(s)
        except Exception:
            pass
