"""Faults: a target down, a corrupted artifact, failures mid-run, interrupted runs, bad input, roles."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, pool, select, text

from core.auth.roles import PermissionDenied
from core.backups import dump, service, storage, tools
from core.backups.dump import mark_interrupted_runs
from core.backups.models import BackupCopy, BackupRun, CopyStatus, RunStatus, RunTrigger
from core.backups.restore import RestoreError
from tests.backups.conftest import scalar
from tests.helpers import free_port


def _exists(db_url, name) -> bool:
    return bool(scalar(db_url, f"SELECT count(*) FROM pg_database WHERE datname = '{name}'"))


def test_target_down_others_still_get_it_and_it_is_retried_next_run(session, db_url, seeded, target_spec, targets,
                                                                    make_user):
    ops = make_user("ops")
    # The eu-west-1 bucket's endpoint is unreachable for this run.
    down_spec = target_spec.rsplit(",", 1)[0] + "," + target_spec.rsplit(",", 1)[1].replace(
        target_spec.split("endpoint=")[1].split("&")[0], f"http://127.0.0.1:{free_port()}")
    down = storage.parse_targets(down_spec)
    assert [t.name for t in down] == [t.name for t in targets]

    first = service.run_backup(session=session, actor=ops, targets=down)
    session.commit()
    assert first.status == RunStatus.PARTIAL
    assert [o.ok for o in first.outcomes] == [True, True, False]
    assert targets[2].name in first.outcomes[2].error
    copies = {c.target: c for c in session.scalars(select(BackupCopy).where(BackupCopy.backup_id == first.id))}
    assert copies[targets[2].name].status == CopyStatus.FAILED and copies[targets[2].name].error
    assert first.id in targets[0].backup_ids() and first.id in targets[1].backup_ids()

    # Next run, with the region back: the missed copy is uploaded again, then the new backup everywhere.
    second = service.run_backup(session=session, actor=ops, targets=targets)
    session.commit()
    session.expire_all()
    assert second.status == RunStatus.SUCCEEDED
    assert [(o.target, o.ok) for o in second.retried] == [(targets[2].name, True)]
    assert session.get(BackupRun, first.id).status == RunStatus.SUCCEEDED
    retried = session.scalar(select(BackupCopy).where(BackupCopy.backup_id == first.id,
                                                      BackupCopy.target == targets[2].name))
    assert retried.status == CopyStatus.UPLOADED and retried.attempts == 2
    assert set(targets[2].backup_ids()) == {first.id, second.id}


def test_a_failing_target_is_exported_alerted_and_ops_are_told(session, db_url, seeded, target_spec, targets,
                                                               monkeypatch):
    """The daily job with one region down: the metric behind BackupTargetFailing names that target, and a
    Slack warning lists what is missing where; with the region back, the metric clears."""
    from prometheus_client import REGISTRY

    from core.backups import jobs, metrics
    from core.config import get_settings
    from core.monitoring.notify import attempts_log
    from tests.monitoring.conftest import Capture

    down_spec = target_spec.rsplit(",", 1)[0] + "," + target_spec.rsplit(",", 1)[1].replace(
        target_spec.split("endpoint=")[1].split("&")[0], f"http://127.0.0.1:{free_port()}")
    slack = Capture()
    try:
        monkeypatch.setenv("BACKUP_TARGETS", down_spec)
        monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url + "/services/T/B/X")
        get_settings.cache_clear()
        with pytest.raises(RuntimeError, match="partial"):
            jobs.daily_backup_job()
        metrics.refresh(session)
        ok = {t.name: REGISTRY.get_sample_value("backup_target_last_copy_ok", {"target": t.name}) for t in targets}
        assert ok == {targets[0].name: 1, targets[1].name: 1, targets[2].name: 0}
        [posted] = slack.requests
        assert "missing from 1 target(s)" in posted["json"]["text"] and targets[2].name in posted["json"]["text"]
        session.expire_all()
        [attempt] = attempts_log(session=session)
        assert (attempt.channel, attempt.status, attempt.severity) == ("slack", "sent", "warning")

        monkeypatch.setenv("BACKUP_TARGETS", target_spec)
        get_settings.cache_clear()
        assert "succeeded" in jobs.daily_backup_job()
        metrics.refresh(session)
        assert REGISTRY.get_sample_value("backup_target_last_copy_ok", {"target": targets[2].name}) == 1
        assert len(slack.requests) == 1
    finally:
        slack.close()
        get_settings.cache_clear()


def test_corrupted_artifact_fails_verification_and_restore_refuses_it(session, db_url, seeded, targets, make_user,
                                                                      scratch):
    ops = make_user("ops")
    result = service.run_backup(session=session, actor=ops, targets=targets[:2])
    session.commit()
    artifact = targets[0].root / f"{result.id}.dump"
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact.write_bytes(bytes(data))

    outcomes = service.verify_backup(session=session, actor=ops, backup_id=result.id, targets=targets[:2])
    session.commit()
    assert not outcomes[0].ok and "checksum mismatch" in outcomes[0].error and outcomes[0].checksum_ok is False
    assert outcomes[1].ok

    into = scratch("corrupt")
    with pytest.raises(RestoreError, match="checksum mismatch"):
        service.restore_into(session=session, actor=ops, backup_id=result.id, into=into, targets=targets[:1])
    assert not _exists(db_url, into)
    # With the healthy copy in the other target the restore falls back to it, and says why.
    report = service.restore_into(session=session, actor=ops, backup_id=result.id, into=into, targets=targets[:2])
    assert report.ok and report.target == targets[1].name
    assert "checksum mismatch" in report.skipped_targets[0]


def test_every_target_failing_leaves_nothing_marked_good(session, db_url, seeded, tmp_path, make_user):
    ops = make_user("ops")
    (tmp_path / "a-file").write_text("not a folder")
    bad = storage.parse_targets(f"file://{tmp_path}/a-file/backups,"
                                f"s3://nowhere/x?region=us-east-1&endpoint=http://127.0.0.1:{free_port()}")
    result = service.run_backup(session=session, actor=ops, targets=bad)
    session.commit()
    assert result.status == RunStatus.FAILED
    assert not any(o.ok for o in result.outcomes)
    assert session.scalar(select(BackupCopy).where(BackupCopy.status == CopyStatus.UPLOADED)) is None


def test_dump_failure_marks_the_run_failed_and_stores_nothing(session, db_url, seeded, targets, make_user):
    ops = make_user("ops")
    eng = create_engine(db_url, poolclass=pool.NullPool)
    with eng.connect() as blocker:
        blocker.execute(text("LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE"))
        result = dump.run_backup(url=db_url, targets=targets, trigger=RunTrigger.MANUAL, actor=ops.username,
                                 lock_timeout_seconds=0.5)
        blocker.rollback()
    eng.dispose()
    assert result.status == RunStatus.FAILED and result.outcomes == []
    assert "locked" in result.error
    run = session.get(BackupRun, result.id)
    assert run.status == RunStatus.FAILED and run.error and run.sha256 is None
    assert all(t.backup_ids() == [] for t in targets)
    assert scalar(db_url, "SELECT count(*) FROM tickets") == 12  # the live database is untouched


def test_interrupted_run_is_marked_failed_at_next_start(session, db_url, make_user):
    # What a worker killed mid-backup leaves behind: a run still 'running', no lock held.
    session.add(BackupRun(id="20261125T020000Z-abcdef", trigger=RunTrigger.SCHEDULED, actor="worker"))
    session.commit()
    # While another process holds the backup lock (a backup in progress), nothing is touched.
    eng = create_engine(db_url, poolclass=pool.NullPool)
    with eng.connect() as other:
        other.execute(text("SELECT pg_advisory_lock(:k)"), {"k": dump.BACKUP_LOCK})
        assert mark_interrupted_runs(session) == 0
        other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": dump.BACKUP_LOCK})
    eng.dispose()
    assert mark_interrupted_runs(session) == 1
    session.commit()
    session.expire_all()
    run = session.get(BackupRun, "20261125T020000Z-abcdef")
    assert run.status == RunStatus.FAILED and "interrupted" in run.error


def test_a_second_concurrent_backup_is_refused(db_url, targets):
    eng = create_engine(db_url, poolclass=pool.NullPool)
    with eng.connect() as other:
        other.execute(text("SELECT pg_advisory_lock(:k)"), {"k": dump.BACKUP_LOCK})
        with pytest.raises(dump.BackupBusy, match="already running|another backup"):
            dump.run_backup(url=db_url, targets=targets, trigger=RunTrigger.MANUAL, actor="x")
    eng.dispose()


@pytest.mark.parametrize("role", ["agent", "support_lead", "pm"])
def test_only_ops_may_restore_or_back_up(session, db_url, targets, make_user, scratch, role):
    user = make_user(role)
    into = scratch("denied")
    with pytest.raises(PermissionDenied):
        service.restore_into(session=session, actor=user, backup_id="20261125T020000Z-abcdef", into=into,
                             targets=targets)
    with pytest.raises(PermissionDenied):
        service.run_backup(session=session, actor=user, targets=targets)
    with pytest.raises(PermissionDenied):
        service.recover_live(session=session, actor=user, backup_id="x", confirm="x", targets=targets)
    assert not _exists(db_url, into)
    assert session.scalar(select(BackupRun)) is None


def test_bad_input_gets_clear_messages(session, db_url, seeded, targets, make_user, scratch):
    ops = make_user("ops")
    with pytest.raises(RestoreError, match="no backup with id 20991231T000000Z-000000 in any target"):
        service.restore_into(session=session, actor=ops, backup_id="20991231T000000Z-000000", into=scratch(),
                             targets=targets)
    with pytest.raises(RestoreError, match="no backup with id 'latest'"):
        service.restore_into(session=session, actor=ops, backup_id="latest", into=scratch(), targets=targets)
    with pytest.raises(RestoreError, match="not a valid database name"):
        service.restore_into(session=session, actor=ops, backup_id="20991231T000000Z-000000",
                             into="Robert'); DROP", targets=targets)
    live = db_url.rsplit("/", 1)[1].split("?")[0]
    with pytest.raises(RestoreError, match="already exists|live database"):
        service.restore_into(session=session, actor=ops, backup_id="20991231T000000Z-000000", into=live,
                             targets=targets)
    existing = scratch("taken")
    scalar(db_url.replace(f"/{live}?", "/postgres?"), "SELECT 1")
    eng = create_engine(db_url.replace(f"/{live}?", "/postgres?"), poolclass=pool.NullPool,
                        isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f"CREATE DATABASE {existing}"))
    eng.dispose()
    with pytest.raises(RestoreError, match=f"database {existing} already exists"):
        service.restore_into(session=session, actor=ops, backup_id="20991231T000000Z-000000", into=existing,
                             targets=targets)


def test_an_older_pg_dump_is_refused_with_a_clear_message(tmp_path):
    fake = tmp_path / "pg_dump"
    fake.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 14.11'\n")
    fake.chmod(0o755)
    with pytest.raises(tools.ToolError, match=r"version 14.11 .* older than the server \(PostgreSQL 18\)"):
        tools.find_tool("pg_dump", server_major=18, embedded=False, search_dirs=[str(tmp_path)])
    with pytest.raises(tools.ToolError, match="not found"):
        tools.find_tool("pg_dump", server_major=18, embedded=False, search_dirs=[str(tmp_path / "none")])
    newer = tmp_path / "newer"
    newer.mkdir()
    (newer / "pg_dump").write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 19.0 (Debian 19.0-1)'\n")
    (newer / "pg_dump").chmod(0o755)
    picked = tools.find_tool("pg_dump", server_major=18, embedded=False, search_dirs=[str(tmp_path), str(newer)])
    assert picked.major == 19 and picked.path == str(newer / "pg_dump")


def test_the_embedded_server_uses_the_wheels_own_tools(db_url):
    from core.db import embedded

    if not tools.is_embedded(db_url):
        pytest.skip("TEST_DATABASE_URL points at another server")
    server = scalar(db_url, "SHOW server_version_num")
    pg_dump, pg_restore = tools.tools_for(db_url, int(server))
    assert pg_dump.path.startswith(str(embedded.bin_dir())) and pg_dump.major == int(server) // 10000


def test_misconfigured_targets_are_named():
    with pytest.raises(storage.StorageError, match="unknown backup target 'ftp://x'"):
        storage.parse_targets("file:///tmp/a,ftp://x")
    with pytest.raises(storage.StorageError, match="BACKUP_TARGETS is empty"):
        storage.parse_targets(" , ")
    t = storage.parse_targets("s3://bucket/some/prefix?region=eu-west-1&endpoint=http://h:1&sse=aws:kms&kms_key_id=k")[0]
    assert (t.name, t.region, t.endpoint, t.sse, t.kms_key_id) == (
        "s3://bucket/some/prefix", "eu-west-1", "http://h:1", "aws:kms", "k")


def test_half_written_dumps_of_stopped_processes_are_removed_and_live_ones_kept(tmp_path):
    """A worker killed mid-dump leaves its staging folder; housekeeping removes it once its process is gone
    (and the folder is not brand new), never the folder of a backup still running."""
    import os
    import subprocess
    import sys

    from core.backups.dump import STAGING_PREFIX, remove_orphaned_staging

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = tmp_path / f"{STAGING_PREFIX}{gone.stdout.strip()}-abc"
    live = tmp_path / f"{STAGING_PREFIX}{os.getpid()}-def"
    fresh_dead = tmp_path / f"{STAGING_PREFIX}{gone.stdout.strip()}-new"
    for folder in (dead, live, fresh_dead):
        folder.mkdir()
        (folder / "partial.dump").write_bytes(b"PGDMP" + b"x" * 100)
    old = os.stat(dead).st_mtime - 3600
    os.utime(dead, (old, old))
    os.utime(live, (old, old))
    assert remove_orphaned_staging(tmp_path) == [dead.name]
    assert not dead.exists() and live.exists() and fresh_dead.exists()
