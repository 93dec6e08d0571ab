"""Recovering the live database: typed confirmation, writes stopped, safety backup, restore, verify, switch, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, pool, select, text
from sqlalchemy.exc import DBAPIError

from core.audit.models import AuditLog
from core.backups import recover, service
from core.backups.models import BackupRun, RunTrigger
from core.backups.recover import RecoverError
from tests.backups.conftest import scalar, url_of


def test_recover_live_switches_the_console_to_a_verified_copy(session, db_url, seeded, targets, make_user, scratch,
                                                              tmp_path):
    ops = make_user("ops")
    backup = service.run_backup(session=session, actor=ops, targets=targets)
    session.commit()
    # The disaster: someone deletes every ticket in the live database.
    eng = create_engine(db_url, poolclass=pool.NullPool)
    with eng.begin() as conn:
        conn.execute(text("DELETE FROM tickets"))
    eng.dispose()

    new_db = scratch("recovered")
    with pytest.raises(RecoverError, match="type the backup id"):
        service.recover_live(session=session, actor=ops, backup_id=backup.id, confirm="yes", targets=targets,
                             state_dir=tmp_path, new_database=new_db)
    assert scalar(db_url, f"SELECT count(*) FROM pg_database WHERE datname = '{new_db}'") == 0
    assert recover.active_database(tmp_path) is None
    [refused] = _recover_audit(db_url)
    assert refused["ok"] is False and "type the backup id" in refused["error"]

    # Someone is working in the console while the recovery runs: their session is ended, and nobody can
    # write to the old database once the safety backup is being taken.
    busy = create_engine(db_url, poolclass=pool.NullPool).connect()
    busy.execute(text("SELECT 1"))
    steps: list[str] = []
    writes: dict[str, str] = {}

    def progress(msg: str) -> None:
        steps.append(msg)
        if msg.startswith("2/4"):
            writes["during"] = _try_write(db_url)

    result = service.recover_live(session=session, actor=ops, backup_id=backup.id, confirm=backup.id,
                                  targets=targets, state_dir=tmp_path, new_database=new_db, progress=progress)
    session.commit()
    assert [s[:3] for s in steps] == ["1/4", "2/4", "3/4", "4/4"]
    assert "read-only transaction" in writes["during"]
    assert "read-only transaction" in _try_write(db_url)  # after the switch too: the old database is frozen
    with pytest.raises(DBAPIError, match="terminat"):
        busy.execute(text("SELECT 1"))
    busy.close()
    assert result.report.ok and result.new_database == new_db
    assert result.safety_backup.status == "succeeded"
    # The recovered database has the tickets; the old one is left as it was, for inspection.
    assert scalar(url_of(db_url, new_db), "SELECT count(*) FROM tickets") == 12
    assert scalar(db_url, "SELECT count(*) FROM tickets") == 0
    # The safety backup holds the state just before the recovery (no tickets), in every target.
    assert result.safety_backup.manifest.row_counts["tickets"] == 0
    assert all(result.safety_backup.id in t.backup_ids() for t in targets)
    assert session.get(BackupRun, result.safety_backup.id).trigger == RunTrigger.SAFETY
    # The switch: the console's URL now names the recovered database.
    assert recover.active_database(tmp_path)["database"] == new_db
    assert recover.apply_active_database(db_url, tmp_path) == url_of(db_url, new_db)
    assert recover.apply_active_database(url_of(db_url, "other_db"), tmp_path) == url_of(db_url, "other_db")
    # Audited in both databases; the backup history came along.
    done = [d for d in _recover_audit(db_url) if d["ok"]]
    assert [(d["backup_id"], d["new_database"], d["safety_backup"]) for d in done] == [
        (backup.id, new_db, result.safety_backup.id)]
    assert session.scalar(select(AuditLog).where(AuditLog.action == "backup.recover",
                                                 AuditLog.details["ok"].as_boolean())).actor_user_id == ops.id
    new_url = url_of(db_url, new_db)
    assert scalar(new_url, "SELECT count(*) FROM audit_log WHERE action = 'backup.recover'") == 1
    assert scalar(new_url, "SELECT count(*) FROM backup_runs") >= 2


def _try_write(url: str) -> str:
    """'ok' when a new session may write to url's database, else the server's error."""
    eng = create_engine(url, poolclass=pool.NullPool)
    try:
        with eng.begin() as conn:
            conn.execute(text("INSERT INTO accounts (key, name, plan, started_at) "
                              "VALUES ('late-' || gen_random_uuid(), 'Late', 'pro', now())"))
        return "ok"
    except DBAPIError as exc:
        return str(exc.orig)
    finally:
        eng.dispose()


def _recover_audit(url: str) -> list[dict]:
    eng = create_engine(url, poolclass=pool.NullPool)
    try:
        with eng.connect() as conn:
            return [r[0] for r in conn.execute(text(
                "SELECT details FROM audit_log WHERE action = 'backup.recover' ORDER BY id"))]
    finally:
        eng.dispose()


def test_a_failed_recovery_is_audited_and_the_database_takes_writes_again(session, db_url, seeded, targets,
                                                                          make_user, scratch, tmp_path):
    ops = make_user("ops")
    missing = "20991231T000000Z-000000"  # in no target: the restore step fails after the safety backup
    new_db = scratch("never")
    writes: dict[str, str] = {}

    def progress(msg: str) -> None:
        if msg.startswith("2/4"):
            writes["during"] = _try_write(db_url)

    with pytest.raises(RecoverError, match=f"no backup with id {missing}.*takes writes again"):
        service.recover_live(session=session, actor=ops, backup_id=missing, confirm=missing, targets=targets,
                             state_dir=tmp_path, new_database=new_db, progress=progress)
    assert "read-only transaction" in writes["during"]
    assert _try_write(db_url) == "ok"  # writable again, and still the console's database
    assert recover.active_database(tmp_path) is None
    assert scalar(db_url, f"SELECT count(*) FROM pg_database WHERE datname = '{new_db}'") == 0
    [row] = _recover_audit(db_url)
    assert row["ok"] is False and row["backup_id"] == missing and f"no backup with id {missing}" in row["error"]
    audit = session.scalar(select(AuditLog).where(AuditLog.action == "backup.recover"))
    assert audit.actor == ops.username and audit.actor_user_id == ops.id
