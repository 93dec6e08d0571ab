"""Recovering the live database: typed confirmation, safety backup, restore, verify, switch, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, pool, select, text

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

    steps: list[str] = []
    result = service.recover_live(session=session, actor=ops, backup_id=backup.id, confirm=backup.id,
                                  targets=targets, state_dir=tmp_path, new_database=new_db, progress=steps.append)
    session.commit()
    assert [s[:3] for s in steps] == ["1/4", "2/4", "3/4", "4/4"]
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
    assert session.scalar(select(AuditLog).where(AuditLog.action == "backup.recover")).details["backup_id"] == backup.id
    new_url = url_of(db_url, new_db)
    assert scalar(new_url, "SELECT count(*) FROM audit_log WHERE action = 'backup.recover'") == 1
    assert scalar(new_url, "SELECT count(*) FROM backup_runs") >= 2
