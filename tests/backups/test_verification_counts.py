"""A copy whose latest verification failed is not a success: not for health, the metric, drills or restores."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from core.backups import queries, service
from core.backups.models import BackupCopy


def _corrupt(target, backup_id: str) -> None:
    artifact = target.root / f"{backup_id}.dump"
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact.write_bytes(bytes(data))


def _uploaded_at(session, backup_id, target):
    return session.scalar(select(BackupCopy.uploaded_at).where(BackupCopy.backup_id == backup_id,
                                                               BackupCopy.target == target.name))


def test_manual_backup_is_verified_right_away(session, db_url, seeded, targets, make_user):
    ops = make_user("ops")
    result = service.run_backup(session=session, actor=ops, targets=targets[:2])
    session.commit()
    assert [(v.target, v.ok) for v in result.verifications] == [(t.name, True) for t in targets[:2]]
    assert queries.list_backups(session)[0]["verification"] == "verified"


def test_a_copy_that_failed_verification_is_not_a_success(session, db_url, seeded, targets, make_user):
    ops = make_user("ops")
    local, s3 = targets[0], targets[1]
    older = service.run_backup(session=session, actor=ops, targets=[local, s3])
    newer = service.run_backup(session=session, actor=ops, targets=[local, s3])
    session.commit()
    _corrupt(local, newer.id)
    outcomes = service.verify_backup(session=session, actor=ops, backup_id=newer.id, targets=[local, s3])
    session.commit()
    assert [o.ok for o in outcomes] == [False, True]
    session.expire_all()

    # Health: the local folder falls back to the older copy and says why it is not healthy; S3 stays healthy.
    health = {r["target"]: r for r in queries.target_freshness(session, [local.name, s3.name])}
    assert health[local.name]["ok"] is False and health[local.name]["problem"] == "verification"
    assert health[local.name]["last_success"] == _uploaded_at(session, older.id, local)
    assert newer.id in health[local.name]["last_error"] and "checksum mismatch" in health[local.name]["last_error"]
    assert health[s3.name]["ok"] is True and health[s3.name]["last_success"] == _uploaded_at(session, newer.id, s3)

    # The metrics behind BackupTooOld and BackupTargetFailing say the same.
    assert REGISTRY.get_sample_value("backup_last_success_timestamp_seconds", {"target": local.name}) == \
        _uploaded_at(session, older.id, local).timestamp()
    assert REGISTRY.get_sample_value("backup_target_last_copy_ok", {"target": local.name}) == 0
    assert REGISTRY.get_sample_value("backup_target_last_copy_ok", {"target": s3.name}) == 1

    # A drill from the local folder alone picks the older, good backup, never the corrupted copy.
    report = service.run_drill(session=session, actor=ops, targets=[local])
    assert report.ok and report.backup_id == older.id

    # Still offered for restores: S3 holds a good copy of it (the last test covers a backup with none).
    assert {r["id"]: r["restorable"] for r in queries.list_backups(session)} == {newer.id: True, older.id: True}


def test_when_every_copy_failed_verification_there_is_no_success_at_all(session, db_url, seeded, targets,
                                                                         make_user):
    from core.backups.restore import RestoreError

    ops = make_user("ops")
    local = targets[0]
    only = service.run_backup(session=session, actor=ops, targets=[local])
    session.commit()
    _corrupt(local, only.id)
    service.verify_backup(session=session, actor=ops, backup_id=only.id, targets=[local])
    session.commit()
    session.expire_all()

    [health] = queries.target_freshness(session, [local.name])
    assert health["ok"] is False and health["last_success"] is None and "checksum mismatch" in health["last_error"]
    assert REGISTRY.get_sample_value("backup_last_success_timestamp_seconds", {"target": local.name}) == 0
    assert queries.list_backups(session)[0]["restorable"] is False
    with pytest.raises(RestoreError, match="every stored copy failed verification"):
        service.run_drill(session=session, actor=ops, targets=[local])
