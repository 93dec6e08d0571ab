"""A backup run: pg_dump -Fc in one snapshot, sha256 and manifest, then every storage target."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import create_engine, pool, select, text, update
from sqlalchemy.engine import make_url

from core.backups.manifest import Manifest, artifact_key, manifest_key, new_backup_id, sha256_file
from core.backups.models import (HISTORY_TABLES, BackupCopy, BackupRun, CopyStatus, RunStatus, RunTrigger)
from core.backups.storage import StorageError, Target
from core.backups.tools import Tool, error_line, libpq_args, tools_for

log = logging.getLogger(__name__)

BACKUP_LOCK = 7_311_008  # advisory-lock key held for the whole of a backup run
RETRY_RUNS = 5           # how many recent partial runs the next run tries to complete


class BackupError(Exception):
    """A backup could not be taken (clear message; nothing was marked good)."""


class BackupBusy(BackupError):
    """Another backup is running right now."""


@dataclass
class TargetOutcome:
    target: str
    ok: bool
    error: str | None = None
    seconds: float = 0.0


@dataclass
class BackupResult:
    id: str
    status: RunStatus
    size_bytes: int | None = None
    sha256: str | None = None
    duration_seconds: float = 0.0
    outcomes: list[TargetOutcome] = field(default_factory=list)
    retried: list[TargetOutcome] = field(default_factory=list)
    error: str | None = None
    manifest: Manifest | None = None
    verifications: list = field(default_factory=list)  # verify.VerifyOutcome per stored copy, when verified

    @property
    def ok(self) -> bool:
        return self.status == RunStatus.SUCCEEDED

    @property
    def verified_ok(self) -> bool:
        """Every stored copy was verified and passed (False when none was verified)."""
        return bool(self.verifications) and all(v.ok for v in self.verifications)


def _admin_engine(url: str):
    return create_engine(url, poolclass=pool.NullPool, connect_args={"connect_timeout": 5})


def _history(url: str):
    from core.db import session_scope

    return session_scope(url)


def table_row_counts(conn, *, skip: tuple[str, ...] = HISTORY_TABLES) -> dict[str, int]:
    """Exact row count of every user table (in conn's snapshot); public tables by bare name."""
    rows = conn.execute(text(
        "SELECT schemaname, tablename FROM pg_tables "
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2")).all()
    counts: dict[str, int] = {}
    for schema, table in rows:
        name = table if schema == "public" else f"{schema}.{table}"
        if table in skip and schema == "public":
            continue
        q = text(f'SELECT count(*) FROM "{schema.replace(chr(34), chr(34) * 2)}"."{table.replace(chr(34), chr(34) * 2)}"')
        counts[name] = int(conn.execute(q).scalar())
    return counts


def alembic_revision(conn) -> str | None:
    """The database's Alembic revision, or None when it has none."""
    if not conn.execute(text("SELECT to_regclass('public.alembic_version')")).scalar():
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version LIMIT 1")).scalar()


def _pipe_to_file(stream, path: Path, digest, sizes: list[int], errors: list[BaseException]) -> None:
    try:
        total = 0
        with open(path, "wb") as out:
            while block := stream.read(1 << 20):
                digest.update(block)
                out.write(block)
                total += len(block)
        sizes.append(total)
    except BaseException as exc:  # reported by the caller
        errors.append(exc)


def dump_database(*, url: str, out: Path, pg_dump: Tool, snapshot: str | None = None,
                  exclude_table_data: tuple[str, ...] = HISTORY_TABLES, counter=None,
                  lock_timeout_seconds: float | None = None) -> tuple[int, str]:
    """Run pg_dump -Fc of url into out, hashing on the way; returns (size, sha256). BackupError on failure.

    counter, when given, is called while pg_dump runs (row counts in the same snapshot)."""
    args, env = libpq_args(url)
    cmd = [pg_dump.path, "-Fc", *args, "-d", make_url(url).database or "postgres", "--no-password"]
    if snapshot:
        cmd += ["--snapshot", snapshot]
    if lock_timeout_seconds:
        cmd += [f"--lock-wait-timeout={int(lock_timeout_seconds * 1000)}ms"]
    for table in exclude_table_data:
        cmd += ["--exclude-table-data", f"public.{table}"]
    digest = hashlib.sha256()
    sizes: list[int] = []
    errors: list[BaseException] = []
    count_error: list[BaseException] = []
    with tempfile.TemporaryFile() as errfile:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errfile, env=env)
        reader = threading.Thread(target=_pipe_to_file, args=(proc.stdout, out, digest, sizes, errors), daemon=True)
        reader.start()
        try:
            if counter is not None:
                counter()
        except Exception as exc:  # reported after pg_dump has ended
            count_error.append(exc)
        finally:
            reader.join()
            rc = proc.wait()
        errfile.seek(0)
        stderr = errfile.read().decode(errors="replace").strip()
    if rc != 0:
        hint = ""
        if lock_timeout_seconds and "timeout" in stderr:
            hint = f" (a table stayed locked by another session for more than {lock_timeout_seconds:g}s)"
        raise BackupError(f"pg_dump failed (exit {rc}): {error_line(stderr)}{hint}")
    if errors:
        raise BackupError(f"writing the dump failed: {errors[0]}")
    if count_error:
        first = str(getattr(count_error[0], "orig", None) or count_error[0]).strip().splitlines()[0]
        raise BackupError(f"counting rows for the manifest failed: {first}")
    return sizes[0], digest.hexdigest()


def check_archive(path: Path, pg_restore: Tool) -> None:
    """`pg_restore --list`: the archive's table of contents must be readable; BackupError otherwise."""
    proc = subprocess.run([pg_restore.path, "--list", str(path)], capture_output=True, text=True)
    if proc.returncode != 0 or "TABLE DATA" not in proc.stdout and "TABLE" not in proc.stdout:
        raise BackupError(f"pg_restore --list rejects the archive: {error_line(proc.stderr)}")


def _upload(target: Target, local: Path, manifest: Manifest) -> TargetOutcome:
    start = time.perf_counter()
    try:
        target.put_file(local, artifact_key(manifest.id), sha256=manifest.sha256)
        target.put_bytes(manifest.to_json().encode(), manifest_key(manifest.id))  # written last: marks it complete
    except StorageError as exc:
        return TargetOutcome(target.name, False, str(exc), time.perf_counter() - start)
    return TargetOutcome(target.name, True, None, time.perf_counter() - start)


def _record_copy(url: str, backup_id: str, outcome: TargetOutcome, size: int | None, retry: bool = False) -> None:
    now = datetime.now(timezone.utc)
    with _history(url) as s:
        copy = s.scalar(select(BackupCopy).where(BackupCopy.backup_id == backup_id, BackupCopy.target == outcome.target))
        if copy is None:
            copy = BackupCopy(backup_id=backup_id, target=outcome.target, attempts=0)
            s.add(copy)
        copy.attempts = (copy.attempts or 0) + 1
        copy.status = CopyStatus.UPLOADED if outcome.ok else CopyStatus.FAILED
        copy.error = outcome.error
        copy.duration_seconds = outcome.seconds
        copy.updated_at = now
        if outcome.ok:
            copy.size_bytes = size
            copy.uploaded_at = now


def _run_status(url: str, backup_id: str) -> RunStatus:
    with _history(url) as s:
        statuses = [c.status for c in s.scalars(select(BackupCopy).where(BackupCopy.backup_id == backup_id))]
    good = sum(1 for st in statuses if st == CopyStatus.UPLOADED)
    if good == 0:
        return RunStatus.FAILED
    return RunStatus.SUCCEEDED if good == len(statuses) else RunStatus.PARTIAL


def retry_failed_copies(*, url: str, targets: list[Target], workdir: Path) -> list[TargetOutcome]:
    """Upload again the copies that failed in recent partial runs, from a target that has the artifact."""
    by_name = {t.name: t for t in targets}
    with _history(url) as s:
        runs = s.scalars(select(BackupRun).where(BackupRun.status == RunStatus.PARTIAL)
                         .order_by(BackupRun.started_at.desc()).limit(RETRY_RUNS)).all()
        work = []
        for run in runs:
            copies = s.scalars(select(BackupCopy).where(BackupCopy.backup_id == run.id)).all()
            good = [by_name[c.target] for c in copies if c.status == CopyStatus.UPLOADED and c.target in by_name]
            failed = [by_name[c.target] for c in copies if c.status == CopyStatus.FAILED and c.target in by_name]
            if good and failed and run.manifest:
                work.append((Manifest.from_dict(run.manifest), good, failed, run.size_bytes))
    outcomes: list[TargetOutcome] = []
    for manifest, good, failed, size in work:
        local = workdir / artifact_key(manifest.id)
        source_ok = False
        for src in good:
            try:
                src.get_file(artifact_key(manifest.id), local)
            except StorageError:
                continue
            if sha256_file(local) == manifest.sha256:
                source_ok = True
                break
        if not source_ok:
            continue
        for dest in failed:
            outcome = _upload(dest, local, manifest)
            _record_copy(url, manifest.id, outcome, size, retry=True)
            outcomes.append(outcome)
        local.unlink(missing_ok=True)
        status = _run_status(url, manifest.id)
        with _history(url) as s:
            s.execute(update(BackupRun).where(BackupRun.id == manifest.id).values(status=status))
    return outcomes


STAGING_PREFIX = "aftercare-backup-"  # + the pid of the process that owns the staging folder


def remove_orphaned_staging(workdir: Path | None = None, *, min_age_seconds: float = 600) -> list[str]:
    """Delete staging folders (half-written dumps) left by backup processes that are gone, on this host.
    Only folders whose owner pid no longer runs and that are older than min_age_seconds (pid reuse) go."""
    import shutil

    root = Path(workdir or tempfile.gettempdir())
    removed = []
    for folder in root.glob(f"{STAGING_PREFIX}*"):
        pid_text = folder.name[len(STAGING_PREFIX):].split("-", 1)[0]
        if not pid_text.isdigit() or not folder.is_dir():
            continue
        try:
            os.kill(int(pid_text), 0)
            continue  # its process still runs
        except ProcessLookupError:
            pass
        except PermissionError:
            continue  # another user's live process
        if time.time() - folder.stat().st_mtime < min_age_seconds:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder.name)
    return removed


def mark_interrupted_runs(session) -> int:
    """Mark runs left 'running' by a killed process as failed (only when no backup holds the lock now).

    Restores and drills still 'running' after a day are marked failed too (no restore takes that long)."""
    from core.backups.models import RestoreRun, RestoreStatus

    session.execute(
        update(RestoreRun).where(RestoreRun.status == RestoreStatus.RUNNING,
                                 RestoreRun.started_at < datetime.now(timezone.utc) - timedelta(days=1))
        .values(status=RestoreStatus.FAILED, finished_at=datetime.now(timezone.utc),
                error="interrupted: the process running this restore stopped before it finished"))
    conn = session.connection()
    if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": BACKUP_LOCK}).scalar():
        return 0  # a backup is running somewhere: its row is not stale
    try:
        result = session.execute(
            update(BackupRun).where(BackupRun.status == RunStatus.RUNNING)
            .values(status=RunStatus.FAILED, finished_at=datetime.now(timezone.utc),
                    error="interrupted: the process running this backup stopped before it finished")
        )
        session.flush()
        return result.rowcount or 0
    finally:
        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": BACKUP_LOCK})


def run_backup(*, url: str, targets: list[Target], trigger: RunTrigger, actor: str,
               workdir: Path | None = None, lock_timeout_seconds: float = 120) -> BackupResult:
    """Take one backup of the database at url and store it in every target; the outcome is recorded."""
    started = time.perf_counter()
    engine = _admin_engine(url)
    lock_conn = engine.connect()
    locked = False
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=workdir))
    backup_id = new_backup_id()
    result = BackupResult(backup_id, RunStatus.FAILED)
    try:
        locked = bool(lock_conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": BACKUP_LOCK}).scalar())
        lock_conn.commit()
        if not locked:
            raise BackupBusy("another backup is running right now; try again when it has finished")
        result.retried = retry_failed_copies(url=url, targets=targets, workdir=staging)

        started_at = datetime.now(timezone.utc)
        with _history(url) as s:
            s.add(BackupRun(id=backup_id, trigger=trigger, actor=actor, started_at=started_at,
                            status=RunStatus.RUNNING, database=make_url(url).database))
        try:
            manifest = _dump(url=url, lock_conn=lock_conn, backup_id=backup_id, started_at=started_at, staging=staging,
                             lock_timeout_seconds=lock_timeout_seconds)
        except BackupError as exc:
            result.error = str(exc)
            _finish(url, backup_id, RunStatus.FAILED, time.perf_counter() - started, error=str(exc))
            return result
        result.manifest, result.size_bytes, result.sha256 = manifest, manifest.size_bytes, manifest.sha256
        local = staging / artifact_key(backup_id)
        for target in targets:
            outcome = _upload(target, local, manifest)
            if not outcome.ok:
                log.warning("backup %s: %s", backup_id, outcome.error)
            _record_copy(url, backup_id, outcome, manifest.size_bytes)
            result.outcomes.append(outcome)
        result.status = _run_status(url, backup_id)
        failed = [o for o in result.outcomes if not o.ok]
        result.error = "; ".join(o.error or o.target for o in failed) or None
        result.duration_seconds = time.perf_counter() - started
        _finish(url, backup_id, result.status, result.duration_seconds, error=result.error, manifest=manifest)
        return result
    except BaseException as exc:
        # Anything unexpected (or an interrupt): the run is failed, never left looking good.
        if not isinstance(exc, BackupBusy):
            try:
                _finish(url, backup_id, RunStatus.FAILED, time.perf_counter() - started,
                        error=f"{type(exc).__name__}: {exc}", only_if_running=True)
            except Exception:
                log.exception("could not mark backup %s failed", backup_id)
        raise
    finally:
        if locked:
            try:
                lock_conn.rollback()
                lock_conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": BACKUP_LOCK})
                lock_conn.commit()
            except Exception:
                pass
        lock_conn.close()
        engine.dispose()
        for p in staging.iterdir():
            p.unlink(missing_ok=True)
        staging.rmdir()
        try:
            from core.backups import metrics

            with _history(url) as s:
                metrics.refresh(s)
        except Exception:
            log.debug("metrics refresh failed", exc_info=True)


def _dump(*, url: str, lock_conn, backup_id: str, started_at: datetime, staging: Path,
          lock_timeout_seconds: float) -> Manifest:
    try:
        version_num = int(lock_conn.execute(text("SHOW server_version_num")).scalar())
        server_version = lock_conn.execute(text("SHOW server_version")).scalar()
        pg_dump, pg_restore = tools_for(url, version_num)
    except Exception as exc:
        raise BackupError(str(exc)) from exc
    # One snapshot for pg_dump and the row counts, so the manifest describes exactly what was dumped.
    lock_conn.commit()
    lock_conn.execution_options(isolation_level="REPEATABLE READ")
    snapshot = lock_conn.execute(text("SELECT pg_export_snapshot()")).scalar()
    # A table locked exclusively by someone else fails the run after this long instead of hanging it.
    lock_conn.execute(text(f"SET LOCAL lock_timeout = '{int(lock_timeout_seconds * 1000)}ms'"))
    counts: dict[str, int] = {}
    meta: dict = {}

    def counter():
        meta["revision"] = alembic_revision(lock_conn)
        counts.update(table_row_counts(lock_conn))

    local = staging / artifact_key(backup_id)
    try:
        size, sha = dump_database(url=url, out=local, pg_dump=pg_dump, snapshot=snapshot, counter=counter,
                                  lock_timeout_seconds=lock_timeout_seconds)
    finally:
        lock_conn.rollback()
    check_archive(local, pg_restore)
    return Manifest(
        id=backup_id, started_at=started_at.isoformat(), finished_at=datetime.now(timezone.utc).isoformat(),
        database=make_url(url).database or "", server_version=str(server_version),
        alembic_revision=meta.get("revision"), row_counts=counts, size_bytes=size, sha256=sha,
        tools={"pg_dump": f"{pg_dump.version} ({pg_dump.path})", "pg_restore": pg_restore.version},
        excluded_table_data=list(HISTORY_TABLES),
    )


def _finish(url: str, backup_id: str, status: RunStatus, duration: float, *, error: str | None = None,
            manifest: Manifest | None = None, only_if_running: bool = False) -> None:
    values = {"status": status, "finished_at": datetime.now(timezone.utc), "duration_seconds": duration,
              "error": error}
    if manifest is not None:
        values.update(size_bytes=manifest.size_bytes, sha256=manifest.sha256, manifest=asdict(manifest),
                      server_version=manifest.server_version, alembic_revision=manifest.alembic_revision)
    stmt = update(BackupRun).where(BackupRun.id == backup_id)
    if only_if_running:
        stmt = stmt.where(BackupRun.status == RunStatus.RUNNING)
    with _history(url) as s:
        s.execute(stmt.values(**values))
