"""Recovering the live database: stop writes, safety backup, restore into a new database, verify, switch.

First the live database is made to refuse writes (its sessions default to read-only, and the console's other
sessions on it are ended), so nothing written after the safety backup can be lost; the recovery's own
bookkeeping uses a connection exempt from that default. If the recovery fails before the switch, the
database is made writable again and stays in use. The switch is a file, var/active-database.json, naming
the database the console should use on the same server. `core.db.session.database_url()` passes its URL
through `apply_active_database(url)`, so every process that opens a new session after the switch talks to
the recovered database (the worker too: its leader connection to the old one is ended); the old one is
kept, read-only, until an operator drops it. Every attempt, failed or not, leaves an audit row.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, insert, pool, select, text
from sqlalchemy.engine import make_url

from core.backups.dump import BackupError, BackupResult, run_backup
from core.backups.models import HISTORY_TABLES, RestoreKind, RunStatus, RunTrigger
from core.backups.restore import RestoreError, RestoreReport, admin_connection, database_exists, restore_backup, url_for
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
    audit_warnings: list[str] = field(default_factory=list)


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


def writable_url(url: str) -> str:
    """url for the recovery's own connections: exempt from the read-only default set on the old database."""
    u = make_url(url)
    options = " ".join(filter(None, [u.query.get("options"), "-c default_transaction_read_only=off"]))
    return u.update_query_dict({"options": options}).render_as_string(hide_password=False)


def _quoted(dbname: str) -> str:
    return '"' + dbname.replace('"', '""') + '"'


# application_name of the release lock's connection (core.releases.lock): a release that restores its
# pre-deploy backup keeps holding its lock on the old database through the switch.
LOCK_APPLICATION = "aftercare:release-lock"


def stop_writes(url: str) -> int:
    """Make url's database refuse writes from new sessions and end the other sessions of our role on it
    (all but a release lock's); returns how many sessions were ended."""
    live = make_url(url).database
    with admin_connection(url) as conn:
        conn.execute(text(f"ALTER DATABASE {_quoted(live)} SET default_transaction_read_only = on"))
        return len(conn.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = :d AND usename = current_user AND pid <> pg_backend_pid() "
            "AND application_name IS DISTINCT FROM :lock"), {"d": live, "lock": LOCK_APPLICATION}).all())


def allow_writes(url: str) -> None:
    """Undo stop_writes: new sessions on url's database may write again."""
    with admin_connection(url) as conn:
        conn.execute(text(f"ALTER DATABASE {_quoted(make_url(url).database)} RESET default_transaction_read_only"))


def _audit(url: str, actor, details: dict) -> str | None:
    """One backup.recover audit row in url's database, in its own transaction; a warning when it cannot be written."""
    from core.audit.service import record
    from core.db import session_scope

    try:
        with session_scope(url) as s:
            record(session=s, actor=actor, action="backup.recover", entity="database",
                   entity_id=details.get("new_database"), details=details)
    except Exception as exc:  # the old database may be the broken one
        msg = f"audit row not written to {make_url(url).database}: {str(exc).strip().splitlines()[0]}"
        log.warning(msg)
        return msg
    return None


def recover_live(*, url: str, backup_id: str, confirm: str, targets: list[Target], actor: str, audit_actor=None,
                 new_database: str | None = None, safety_backup: bool = True, state_dir: Path = VAR,
                 progress: Callable[[str], None] = lambda msg: None) -> RecoverResult:
    """Recover the live database (at url) from backup_id; RecoverError leaves the live database in use, writable.

    Audited whatever happens (as audit_actor, a User, when given): a failure with its error in the live
    database, a success in both the old and the recovered one."""
    live = make_url(url).database or "postgres"
    new_database = new_database or f"{live[:40]}_r{datetime.now(timezone.utc):%Y%m%d%H%M%S}"
    who = audit_actor if audit_actor is not None else actor
    details = {"backup_id": backup_id, "new_database": new_database, "previous_database": live}
    try:
        result = _recover(url=url, live=live, backup_id=backup_id, confirm=confirm, targets=targets, actor=actor,
                          new_database=new_database, safety_backup=safety_backup, state_dir=Path(state_dir),
                          progress=progress)
    except BaseException as exc:
        _audit(writable_url(url), who, {**details, "ok": False, "error": str(exc) or type(exc).__name__})
        raise
    details.update(ok=True, safety_backup=result.safety_backup.id if result.safety_backup else None)
    # The recovered database may lack this user (the backup is older), so it records the name only.
    warnings = [_audit(writable_url(url), who, details),
                _audit(url_for(url, new_database), getattr(who, "username", None) or str(who), details)]
    result.audit_warnings = [w for w in warnings if w]
    return result


def _recover(*, url: str, live: str, backup_id: str, confirm: str, targets: list[Target], actor: str,
             new_database: str, safety_backup: bool, state_dir: Path,
             progress: Callable[[str], None]) -> RecoverResult:
    if (confirm or "").strip() != backup_id:
        raise RecoverError("confirmation does not match: type the backup id exactly to confirm the recovery")
    own = writable_url(url)
    # A lost database (recovering with the CLI only) has nothing to protect; anything else stops taking writes.
    try:
        stopped = database_exists(url, live)
    except Exception as exc:
        raise RecoverError(f"the database server does not answer ({str(exc).strip().splitlines()[0]}); "
                           "nothing was changed") from exc
    progress(f"1/4 stopping writes to {live} (its other sessions are ended)"
             + (" and taking a safety backup" if safety_backup else ""))
    if stopped:
        try:
            stop_writes(url)
        except Exception as exc:
            raise RecoverError(f"cannot stop writes to {live} ({str(exc).strip().splitlines()[0]}); "
                               "nothing was changed") from exc
    try:
        safety = None
        if safety_backup:
            try:
                safety = run_backup(url=own, targets=targets, trigger=RunTrigger.SAFETY, actor=actor)
            except BackupError as exc:
                raise RecoverError(f"the safety backup could not be taken ({exc})") from exc
            if safety.status == RunStatus.FAILED:
                raise RecoverError(f"the safety backup failed ({safety.error})")
        progress(f"2/4 restoring {backup_id} into the new database {new_database}")
        try:
            report = restore_backup(url=own, backup_id=backup_id, into=new_database, targets=targets, actor=actor,
                                    kind=RestoreKind.RECOVER)
        except RestoreError as exc:
            raise RecoverError(str(exc)) from exc
        progress("3/4 verifying the restored database against the manifest")
        if not report.ok:
            bad = [f"{c.name}: expected {c.expected}, found {c.actual}" for c in report.checks if not c.ok]
            raise RecoverError(f"the restored database {new_database} does not match the manifest "
                               f"({'; '.join(bad) or report.error})")
        try:
            copy_history(own, url_for(url, new_database))
        except Exception as exc:  # the old database may be broken: the recovered one still works without history
            log.warning("backup history not copied into %s: %s", new_database, str(exc).splitlines()[0])
        progress(f"4/4 switching the console to {new_database}")
        earlier = active_database(state_dir) or {}
        configured = earlier.get("configured", live) if earlier.get("database") == live else live
        _write_switch(state_dir, {"database": new_database, "previous": live, "configured": configured,
                                  "backup_id": backup_id, "switched_at": datetime.now(timezone.utc).isoformat(),
                                  "actor": actor})
    except BaseException as exc:
        if not stopped:
            raise
        try:
            allow_writes(url)
        except Exception as undo:
            raise RecoverError(f"{exc}; {live} could not be made writable again ({str(undo).splitlines()[0]}): "
                               f'run ALTER DATABASE "{live}" RESET default_transaction_read_only') from exc
        if isinstance(exc, RecoverError):
            raise RecoverError(f"{exc}; {live} takes writes again and the console still uses it") from exc
        raise
    try:  # this process's pooled connections to the old database go; new sessions open on the recovered one
        from core.db import reset_engines

        reset_engines()
    except Exception:
        log.debug("engines not reset", exc_info=True)
    return RecoverResult(backup_id, new_database, live, safety, report)
