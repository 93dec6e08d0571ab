"""Restoring a backup into a new database: first healthy target, checksum, pg_restore, then compare with the manifest."""

from __future__ import annotations

import logging
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Connection, create_engine, pool, select, text, update
from sqlalchemy.engine import make_url

from core.backups.dump import alembic_revision, table_row_counts
from core.backups.manifest import Manifest, artifact_key, manifest_key, sha256_file, valid_backup_id
from core.backups.models import BackupRun, RestoreKind, RestoreRun, RestoreStatus
from core.backups.storage import StorageError, Target
from core.backups.tools import error_line, libpq_args, tools_for

log = logging.getLogger(__name__)

DBNAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class RestoreError(Exception):
    """A restore was refused or failed (clear message; the live database was not touched)."""


@dataclass
class Check:
    name: str          # "rows: tickets", "alembic revision"
    expected: object
    actual: object

    @property
    def ok(self) -> bool:
        return self.expected == self.actual


@dataclass
class RestoreReport:
    backup_id: str
    into: str
    kind: RestoreKind
    target: str | None = None
    checks: list[Check] = field(default_factory=list)
    skipped_targets: list[str] = field(default_factory=list)   # why each earlier target was not used
    duration_seconds: float = 0.0
    error: str | None = None
    restore_run_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and all(c.ok for c in self.checks)

    def as_dict(self) -> dict:
        return {"backup_id": self.backup_id, "into": self.into, "target": self.target, "ok": self.ok,
                "duration_seconds": round(self.duration_seconds, 3), "error": self.error,
                "skipped_targets": self.skipped_targets,
                "checks": [{"name": c.name, "expected": c.expected, "actual": c.actual, "ok": c.ok} for c in self.checks]}


def url_for(url: str, dbname: str) -> str:
    """The same server as url, another database."""
    return make_url(url).set(database=dbname).render_as_string(hide_password=False)


def admin_engine(url: str):
    """An autocommit engine on the server's maintenance database (for CREATE/DROP DATABASE)."""
    return create_engine(url_for(url, "postgres"), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT",
                         connect_args={"connect_timeout": 5})


@contextmanager
def admin_connection(url: str) -> Iterator[Connection]:
    """One autocommit connection to the server's maintenance database, closed with its engine afterwards."""
    eng = admin_engine(url)
    try:
        with eng.connect() as conn:
            yield conn
    finally:
        eng.dispose()


def database_exists(url: str, dbname: str) -> bool:
    with admin_connection(url) as conn:
        return bool(conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": dbname}).scalar())


def drop_database(url: str, dbname: str) -> None:
    """Drop a scratch database (never the one url itself names)."""
    if dbname == make_url(url).database:
        raise RestoreError(f"refusing to drop {dbname}: it is the live database")
    with admin_connection(url) as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))


def check_new_database_name(url: str, into: str) -> None:
    """RestoreError unless into is a valid, unused database name other than the live one."""
    if not DBNAME_RE.match(into or ""):
        raise RestoreError(f"{into!r} is not a valid database name: use lowercase letters, digits and _ "
                           "(63 characters at most, not starting with a digit)")
    if into == make_url(url).database:
        raise RestoreError(f"{into} is the live database: restore into a new database")
    if database_exists(url, into):
        raise RestoreError(f"database {into} already exists: choose another name or drop it first")


def fetch_verified(*, backup_id: str, targets: list[Target], workdir: Path,
                   expected_sha256: str | None = None) -> tuple[Target, Manifest, Path, list[str]]:
    """Download the artifact from the first target whose copy matches its checksum; RestoreError otherwise."""
    notes: list[str] = []
    missing = 0
    for target in targets:
        try:
            manifest = Manifest.from_json(target.get_bytes(manifest_key(backup_id)))
        except StorageError as exc:
            missing += exc.missing
            notes.append(f"{target.name}: not there" if exc.missing else str(exc))
            continue
        except ValueError as exc:
            notes.append(f"{target.name}: unreadable manifest ({exc})")
            continue
        want = expected_sha256 or manifest.sha256
        if manifest.sha256 != want:
            notes.append(f"{target.name}: checksum mismatch: the manifest says {manifest.sha256}, "
                         f"the backup history says {want}")
            continue
        local = workdir / artifact_key(backup_id)
        try:
            target.get_file(artifact_key(backup_id), local)
        except StorageError as exc:
            missing += exc.missing
            notes.append(str(exc))
            continue
        actual = sha256_file(local)
        if actual != want:
            local.unlink(missing_ok=True)
            notes.append(f"{target.name}: checksum mismatch: expected sha256 {want}, the artifact has {actual}")
            continue
        return target, manifest, local, notes
    if missing == len(targets):
        raise RestoreError(f"no backup with id {backup_id} in any target ({', '.join(t.name for t in targets)})")
    raise RestoreError(f"no healthy copy of backup {backup_id}: " + "; ".join(notes))


def compare(manifest: Manifest, restored_url: str) -> list[Check]:
    """Row count per table and the Alembic revision of the restored database against the manifest."""
    eng = create_engine(restored_url, poolclass=pool.NullPool)
    try:
        with eng.connect() as conn:
            counts = table_row_counts(conn)
            revision = alembic_revision(conn)
    finally:
        eng.dispose()
    checks = [Check("alembic revision", manifest.alembic_revision, revision)]
    for table in sorted(set(manifest.row_counts) | set(counts)):
        checks.append(Check(f"rows: {table}", manifest.row_counts.get(table), counts.get(table)))
    return checks


def pg_restore_into(*, url: str, into: str, archive: Path, jobs: int = 2) -> None:
    """CREATE DATABASE into and pg_restore archive into it; on failure the new database is dropped."""
    with admin_connection(url) as conn:
        version_num = int(conn.execute(text("SHOW server_version_num")).scalar())
        conn.execute(text(f'CREATE DATABASE "{into}"'))
    try:
        _, pg_restore = tools_for(url, version_num)
        args, env = libpq_args(url)
        cmd = [pg_restore.path, *args, "-d", into, "--no-owner", "--no-acl", "--exit-on-error", "--no-password"]
        if jobs > 1:
            cmd += ["--jobs", str(jobs)]
        proc = subprocess.run([*cmd, str(archive)], capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            raise RestoreError(f"pg_restore failed (exit {proc.returncode}): {error_line(proc.stderr)}")
    except BaseException:
        drop_database(url, into)
        raise


def _history_sha(url: str, backup_id: str) -> str | None:
    try:
        from core.db import session_scope

        with session_scope(url) as s:
            return s.scalar(select(BackupRun.sha256).where(BackupRun.id == backup_id))
    except Exception:  # the history may be unreachable (the console is down): the manifest still speaks
        return None


def _record_start(url: str, report: RestoreReport, actor: str) -> int | None:
    try:
        from core.db import session_scope

        with session_scope(url) as s:
            row = RestoreRun(kind=report.kind, backup_id=report.backup_id, into_database=report.into, actor=actor,
                             status=RestoreStatus.RUNNING)
            s.add(row)
            s.flush()
            return row.id
    except Exception as exc:
        log.warning("restore %s not recorded in the history: %s", report.backup_id, str(exc).splitlines()[0])
        return None


def _record_end(url: str, report: RestoreReport) -> None:
    if report.restore_run_id is None:
        return
    from core.db import session_scope

    with session_scope(url) as s:
        s.execute(update(RestoreRun).where(RestoreRun.id == report.restore_run_id).values(
            status=RestoreStatus.SUCCEEDED if report.ok else RestoreStatus.FAILED,
            finished_at=datetime.now(timezone.utc), duration_seconds=report.duration_seconds,
            target=report.target, report=report.as_dict(), error=report.error or _failed_checks(report)))


def _failed_checks(report: RestoreReport) -> str | None:
    bad = [f"{c.name}: expected {c.expected}, found {c.actual}" for c in report.checks if not c.ok]
    return "; ".join(bad) or None


def restore_backup(*, url: str, backup_id: str, into: str, targets: list[Target], actor: str,
                   kind: RestoreKind = RestoreKind.RESTORE, jobs: int = 2, record: bool = True) -> RestoreReport:
    """Restore backup_id into a new database on url's server and compare it with the manifest.

    Refusals (bad id, existing database, no healthy copy) raise RestoreError before anything is created;
    a restore that ran but does not match the manifest returns a report with ok False."""
    if not valid_backup_id(backup_id):
        raise RestoreError(f"no backup with id {backup_id!r}: ids look like 20261125T020000Z-1a2b3c "
                           "(see `python -m core backup list`)")
    check_new_database_name(url, into)
    report = RestoreReport(backup_id, into, kind)
    start = time.perf_counter()
    if record:
        report.restore_run_id = _record_start(url, report, actor)
    try:
        with tempfile.TemporaryDirectory(prefix="aftercare-restore-") as tmp:
            target, manifest, local, notes = fetch_verified(
                backup_id=backup_id, targets=targets, workdir=Path(tmp), expected_sha256=_history_sha(url, backup_id))
            report.target, report.skipped_targets = target.name, notes
            pg_restore_into(url=url, into=into, archive=local, jobs=jobs)
        report.checks = compare(manifest, url_for(url, into))
    except RestoreError as exc:
        report.error = str(exc)
        raise
    except BaseException as exc:
        report.error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        report.duration_seconds = time.perf_counter() - start
        try:
            _record_end(url, report)
        except Exception:
            log.warning("restore %s: could not record the outcome", backup_id, exc_info=True)
    return report
