"""Verifying stored copies: download again, compare the checksum, and list the archive with pg_restore."""

from __future__ import annotations

import logging
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, pool, select, text

from core.backups.dump import BackupResult, run_backup
from core.backups.manifest import Manifest, artifact_key, manifest_key, sha256_file, valid_backup_id
from core.backups.models import BackupCopy, BackupRun, BackupVerification, CopyStatus, RunStatus, RunTrigger
from core.backups.storage import StorageError, Target
from core.backups.tools import error_line, tools_for

log = logging.getLogger(__name__)


class VerifyError(Exception):
    """The backup cannot be verified at all (unknown id)."""


@dataclass
class VerifyOutcome:
    target: str
    ok: bool
    checksum_ok: bool | None = None
    archive_ok: bool | None = None
    error: str | None = None


def _pg_restore(url: str):
    eng = create_engine(url, poolclass=pool.NullPool)
    try:
        with eng.connect() as conn:
            version_num = int(conn.execute(text("SHOW server_version_num")).scalar())
    finally:
        eng.dispose()
    return tools_for(url, version_num)[1]


def verify_copy(target: Target, backup_id: str, expected_sha256: str, pg_restore, workdir: Path) -> VerifyOutcome:
    """Check one target's copy of a backup."""
    try:
        manifest = Manifest.from_json(target.get_bytes(manifest_key(backup_id)))
    except StorageError as exc:
        return VerifyOutcome(target.name, False, error="missing from this target" if exc.missing else str(exc))
    except ValueError as exc:
        return VerifyOutcome(target.name, False, error=f"unreadable manifest: {exc}")
    local = workdir / artifact_key(backup_id)
    try:
        target.get_file(artifact_key(backup_id), local)
    except StorageError as exc:
        return VerifyOutcome(target.name, False, error="artifact missing from this target" if exc.missing else str(exc))
    try:
        actual = sha256_file(local)
        if actual != expected_sha256 or manifest.sha256 != expected_sha256:
            return VerifyOutcome(target.name, False, checksum_ok=False,
                                 error=f"checksum mismatch: expected sha256 {expected_sha256}, the artifact has {actual}")
        proc = subprocess.run([pg_restore.path, "--list", str(local)], capture_output=True, text=True)
        if proc.returncode != 0:
            return VerifyOutcome(target.name, False, checksum_ok=True, archive_ok=False,
                                 error=f"pg_restore --list rejects the archive: {error_line(proc.stderr)}")
        return VerifyOutcome(target.name, True, checksum_ok=True, archive_ok=True)
    finally:
        local.unlink(missing_ok=True)


def verify_backup(*, url: str, backup_id: str, targets: list[Target], actor: str) -> list[VerifyOutcome]:
    """Verify every configured target's copy of backup_id (those the history says hold it) and record it."""
    from core.db import session_scope

    if not valid_backup_id(backup_id):
        raise VerifyError(f"no backup with id {backup_id!r}: ids look like 20261125T020000Z-1a2b3c")
    with session_scope(url) as s:
        run = s.get(BackupRun, backup_id)
        if run is None or not run.sha256:
            raise VerifyError(f"no backup with id {backup_id} in the history"
                              + (" (that run failed before it produced an artifact)" if run is not None else ""))
        expected = run.sha256
        holders = {c.target for c in s.scalars(select(BackupCopy).where(
            BackupCopy.backup_id == backup_id, BackupCopy.status == CopyStatus.UPLOADED))}
    checked = [t for t in targets if t.name in holders]
    if not checked:
        raise VerifyError(f"backup {backup_id} has no stored copy in the configured targets")
    pg_restore = _pg_restore(url)
    with tempfile.TemporaryDirectory(prefix="aftercare-verify-") as tmp:
        outcomes = [verify_copy(t, backup_id, expected, pg_restore, Path(tmp)) for t in checked]
    now = datetime.now(timezone.utc)
    with session_scope(url) as s:
        for o in outcomes:
            s.add(BackupVerification(backup_id=backup_id, target=o.target, at=now, ok=o.ok, checksum_ok=o.checksum_ok,
                                     archive_ok=o.archive_ok, error=o.error, actor=actor))
            copy = s.scalar(select(BackupCopy).where(BackupCopy.backup_id == backup_id, BackupCopy.target == o.target))
            copy.verified_at, copy.verify_ok = now, o.ok
    try:  # a failed verification takes the copy out of backup_last_success_timestamp_seconds at once
        from core.backups import metrics

        with session_scope(url) as s:
            metrics.refresh(s)
    except Exception:
        log.debug("metrics refresh failed", exc_info=True)
    return outcomes


def backup_and_verify(*, url: str, targets: list[Target], trigger: RunTrigger, actor: str) -> BackupResult:
    """Take a backup, then verify every copy it stored (the daily job, "Back up now" and `backup run`);
    the outcomes are in result.verifications."""
    result = run_backup(url=url, targets=targets, trigger=trigger, actor=actor)
    if result.status != RunStatus.FAILED:
        result.verifications = verify_backup(url=url, backup_id=result.id, targets=targets, actor=actor)
    return result
