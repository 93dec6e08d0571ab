"""What people do with backups, permission-checked and audited: back up, verify, prune, restore, recover.

A backup or restore runs for minutes and records its own progress in the history tables as it goes
(so a killed run is visible); the audit row of the person's action is written in the caller's session.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from core.audit.service import record
from core.auth.roles import Permission, require
from core.backups import drill, dump, recover, restore, retention, storage, verify
from core.backups.models import RunTrigger
from core.config import VAR


def _url(session: Session) -> str:
    return session.get_bind().url.render_as_string(hide_password=False)


def _targets(targets: list[storage.Target] | None) -> list[storage.Target]:
    return targets if targets is not None else storage.parse_targets()


def run_backup(*, session: Session, actor, targets: list[storage.Target] | None = None,
               trigger: RunTrigger = RunTrigger.MANUAL) -> dump.BackupResult:
    """Take a backup now (RUN_BACKUP), verify every copy it stored as the daily job does, and audit it."""
    require(actor, Permission.RUN_BACKUP)
    result = verify.backup_and_verify(url=_url(session), targets=_targets(targets), trigger=trigger,
                                      actor=actor.username)
    record(session=session, actor=actor, action="backup.run", entity="backup", entity_id=result.id,
           details={"status": result.status, "size_bytes": result.size_bytes, "sha256": result.sha256,
                    "targets": {o.target: ("ok" if o.ok else o.error) for o in result.outcomes},
                    "verified": {o.target: ("ok" if o.ok else o.error) for o in result.verifications}})
    return result


def verify_backup(*, session: Session, actor, backup_id: str,
                  targets: list[storage.Target] | None = None) -> list[verify.VerifyOutcome]:
    """Verify every stored copy of a backup (RUN_BACKUP) and audit it."""
    require(actor, Permission.RUN_BACKUP)
    outcomes = verify.verify_backup(url=_url(session), backup_id=backup_id, targets=_targets(targets),
                                    actor=actor.username)
    record(session=session, actor=actor, action="backup.verify", entity="backup", entity_id=backup_id,
           details={o.target: ("ok" if o.ok else o.error) for o in outcomes})
    return outcomes


def prune(*, session: Session, actor, dry_run: bool, targets: list[storage.Target] | None = None,
          policy: retention.Policy | None = None, now=None) -> list[retention.TargetPlan]:
    """Apply the retention policy (RUN_BACKUP); a dry run only lists what would go."""
    require(actor, Permission.RUN_BACKUP)
    plans = retention.prune(url=_url(session), targets=_targets(targets), dry_run=dry_run, policy=policy, now=now)
    if not dry_run:
        record(session=session, actor=actor, action="backup.prune", entity="backup",
               details={p.target: p.deleted for p in plans})
    return plans


def restore_into(*, session: Session, actor, backup_id: str, into: str,
                 targets: list[storage.Target] | None = None) -> restore.RestoreReport:
    """Restore a backup into a new database (RESTORE) and audit it; the live database is not touched."""
    require(actor, Permission.RESTORE)
    report = restore.restore_backup(url=_url(session), backup_id=backup_id, into=into, targets=_targets(targets),
                                    actor=actor.username)
    record(session=session, actor=actor, action="backup.restore", entity="backup", entity_id=backup_id,
           details={"into": into, "ok": report.ok, "target": report.target})
    return report


def run_drill(*, session: Session, actor, targets: list[storage.Target] | None = None) -> restore.RestoreReport:
    """Run a restore drill now (RESTORE) and audit it."""
    require(actor, Permission.RESTORE)
    report = drill.run_drill(url=_url(session), targets=_targets(targets), actor=actor.username)
    record(session=session, actor=actor, action="backup.drill", entity="backup", entity_id=report.backup_id,
           details={"ok": report.ok, "seconds": round(report.duration_seconds, 2)})
    return report


def recover_live(*, session: Session, actor, backup_id: str, confirm: str,
                 targets: list[storage.Target] | None = None, state_dir: Path = VAR,
                 new_database: str | None = None, progress=lambda msg: None) -> recover.RecoverResult:
    """Recover the live database from a backup (RESTORE, typed confirmation).

    Audited by the recovery itself, failures included, in transactions of its own: the old database refuses
    the caller's writes once the recovery has begun, and a failure must leave its row too."""
    require(actor, Permission.RESTORE)
    return recover.recover_live(url=_url(session), backup_id=backup_id, confirm=confirm, targets=_targets(targets),
                                actor=actor.username, audit_actor=actor, state_dir=state_dir,
                                new_database=new_database, progress=progress)
