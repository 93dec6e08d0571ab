"""Recovering the live database: safety backup, restore into a new database, verify, then switch the console to it.

The switch is a file, var/active-database.json, naming the database the console should use on the same
server. `core.db.session.database_url()` passes its URL through `apply_active_database(url)`, so every
process that opens a new session after the switch talks to the recovered database; the old one is kept,
untouched, until an operator drops it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, insert, pool, select, text
from sqlalchemy.engine import make_url

from core.backups.dump import BackupResult, run_backup
from core.backups.models import HISTORY_TABLES, RestoreKind, RunStatus, RunTrigger
from core.backups.restore import RestoreError, RestoreReport, restore_backup, url_for
from core.backups.storage import Target
from core.config import VAR

log = logging.getLogger(__name__)

ACTIVE_DATABASE_FILE = "active-database.json"


class RecoverError(Exception):
    """The recovery stopped before the switch; the live database is still the one in use."""


@dataclass
class RecoverResult:
    backup_id: str
    new_database: str
    previous_database: str
    safety_backup: BackupResult | None
    report: RestoreReport


def active_database(state_dir: Path = VAR) -> dict | None:
    """The switch record ({database, previous, backup_id, switched_at, actor}) or None."""
    path = Path(state_dir) / ACTIVE_DATABASE_FILE
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def apply_active_database(url: str, state_dir: Path = VAR) -> str:
    """url with its database replaced by the recovered one, when a recovery switched the console."""
    record = active_database(state_dir)
    if not record or not record.get("database"):
        return url
    # Only the database the switch was made from is redirected (tests and other databases are left alone).
    if make_url(url).database != record.get("configured", record.get("previous")):
        return url
    return url_for(url, record["database"])


def _write_switch(state_dir: Path, record: dict) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / ACTIVE_DATABASE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2))
    os.replace(tmp, path)  # atomic: readers see the old or the new database, never half a file


def copy_history(from_url: str, to_url: str) -> None:
    """Copy the backup history (left out of dumps) from the old database into the recovered one."""
    from core.backups import models

    tables = [models.BackupRun.__table__, models.BackupCopy.__table__, models.BackupVerification.__table__,
              models.RestoreRun.__table__]
    assert [t.name for t in tables] == list(HISTORY_TABLES)
    src = create_engine(from_url, poolclass=pool.NullPool)
    dst = create_engine(to_url, poolclass=pool.NullPool)
    try:
        with src.connect() as a, dst.begin() as b:
            for table in tables:
                rows = [dict(r._mapping) for r in a.execute(select(table))]
                if rows:
                    b.execute(insert(table), rows)
                if "id" in table.c and table.name != "backup_runs":
                    b.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                   f"(SELECT coalesce(max(id), 0) + 1 FROM {table.name}), false)"))
    finally:
        src.dispose()
        dst.dispose()


def recover_live(*, url: str, backup_id: str, confirm: str, targets: list[Target], actor: str,
                 new_database: str | None = None, safety_backup: bool = True, state_dir: Path = VAR,
                 progress: Callable[[str], None] = lambda msg: None) -> RecoverResult:
    """Recover the live database (at url) from backup_id; RecoverError leaves the live database in use."""
    if (confirm or "").strip() != backup_id:
        raise RecoverError("confirmation does not match: type the backup id exactly to confirm the recovery")
    live = make_url(url).database or "postgres"
    now = datetime.now(timezone.utc)
    new_database = new_database or f"{live[:40]}_r{now:%Y%m%d%H%M%S}"
    safety = None
    if safety_backup:
        progress("1/4 taking a safety backup of the current database")
        safety = run_backup(url=url, targets=targets, trigger=RunTrigger.SAFETY, actor=actor)
        if safety.status == RunStatus.FAILED:
            raise RecoverError(f"the safety backup failed ({safety.error}); nothing was changed")
    progress(f"2/4 restoring {backup_id} into the new database {new_database}")
    try:
        report = restore_backup(url=url, backup_id=backup_id, into=new_database, targets=targets, actor=actor,
                                kind=RestoreKind.RECOVER)
    except RestoreError as exc:
        raise RecoverError(f"{exc}; the console still uses {live}") from exc
    progress("3/4 verifying the restored database against the manifest")
    if not report.ok:
        bad = [f"{c.name}: expected {c.expected}, found {c.actual}" for c in report.checks if not c.ok]
        raise RecoverError(f"the restored database {new_database} does not match the manifest "
                           f"({'; '.join(bad) or report.error}); the console still uses {live}")
    try:
        copy_history(url, url_for(url, new_database))
    except Exception as exc:  # the old database may be broken: the recovered one still works without history
        log.warning("backup history not copied into %s: %s", new_database, str(exc).splitlines()[0])
    progress(f"4/4 switching the console to {new_database}")
    earlier = active_database(Path(state_dir)) or {}
    configured = earlier.get("configured", live) if earlier.get("database") == live else live
    _write_switch(Path(state_dir), {"database": new_database, "previous": live, "configured": configured,
                                    "backup_id": backup_id, "switched_at": now.isoformat(), "actor": actor})
    return RecoverResult(backup_id, new_database, live, safety, report)
