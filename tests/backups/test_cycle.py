"""The whole cycle against the embedded PostgreSQL and moto's S3 in two regions: back up, verify, restore, compare."""

from __future__ import annotations

import boto3
from prometheus_client import REGISTRY
from sqlalchemy import select, text

from core.audit.models import AuditLog
from core.backups import queries, service
from core.backups.manifest import Manifest
from core.backups.models import BackupCopy, BackupRun, CopyStatus, RestoreKind, RestoreRun, RunStatus
from tests.backups.conftest import scalar, url_of


def _objects(moto_url, bucket, region):
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name=region)
    return {o["Key"]: o for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


def test_backup_reaches_every_target_and_restores_identically(session, db_url, seeded, targets, moto_url, buckets,
                                                              make_user, scratch):
    ops = make_user("ops")
    result = service.run_backup(session=session, actor=ops, targets=targets)
    session.commit()

    assert result.status == RunStatus.SUCCEEDED
    assert [o.ok for o in result.outcomes] == [True, True, True]
    assert len(result.sha256) == 64 and result.size_bytes > 0
    # Both regions hold the artifact and its manifest, encrypted / in the asked storage class.
    for name, region in (("east", "us-east-1"), ("west", "eu-west-1")):
        keys = _objects(moto_url, buckets[name], region)
        assert f"aftercare/{result.id}.dump" in keys and f"aftercare/{result.id}.manifest.json" in keys
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    assert s3.head_object(Bucket=buckets["east"], Key=f"aftercare/{result.id}.dump")["ServerSideEncryption"] == "AES256"
    assert s3.get_bucket_location(Bucket=buckets["west"])["LocationConstraint"] == "eu-west-1"
    west = boto3.client("s3", endpoint_url=moto_url, region_name="eu-west-1")
    assert west.head_object(Bucket=buckets["west"], Key=f"aftercare/{result.id}.dump").get("StorageClass") == "STANDARD_IA"

    # The manifest tells what was dumped.
    manifest = Manifest.from_json(targets[1].get_bytes(f"{result.id}.manifest.json"))
    assert manifest.sha256 == result.sha256 and manifest.size_bytes == result.size_bytes
    assert manifest.row_counts["tickets"] == 12 and manifest.row_counts["accounts"] == 3
    assert manifest.alembic_revision == scalar(db_url, "SELECT version_num FROM alembic_version")
    assert manifest.server_version and "pg_dump" in manifest.tools

    # Recorded per target, with an audit row.
    copies = session.scalars(select(BackupCopy).where(BackupCopy.backup_id == result.id)).all()
    assert {c.target for c in copies} == {t.name for t in targets}
    assert all(c.status == CopyStatus.UPLOADED for c in copies)
    assert session.scalar(select(AuditLog).where(AuditLog.action == "backup.run", AuditLog.entity_id == result.id))

    # Verification: every copy downloaded again, checksum and archive checked.
    outcomes = service.verify_backup(session=session, actor=ops, backup_id=result.id, targets=targets)
    session.commit()
    assert [o.ok for o in outcomes] == [True, True, True]
    session.expire_all()
    assert queries.list_backups(session)[0]["verification"] == "verified"

    # Restore into a scratch database: same rows, same revision, reported check by check.
    into = scratch("restored")
    report = service.restore_into(session=session, actor=ops, backup_id=result.id, into=into, targets=targets)
    session.commit()
    assert report.ok, report.as_dict()
    assert report.target == targets[0].name
    names = {c.name for c in report.checks}
    assert {"alembic revision", "rows: tickets", "rows: accounts"} <= names
    restored = url_of(db_url, into)
    assert scalar(restored, "SELECT count(*) FROM tickets") == 12
    assert scalar(restored, "SELECT string_agg(subject, ',' ORDER BY id) FROM tickets") == \
        scalar(db_url, "SELECT string_agg(subject, ',' ORDER BY id) FROM tickets")
    # The backup history stays with the live database; the restored one has the tables, empty.
    assert scalar(restored, "SELECT count(*) FROM backup_runs") == 0
    run = session.scalar(select(RestoreRun).where(RestoreRun.into_database == into))
    assert run.kind == RestoreKind.RESTORE and run.status == "succeeded" and run.duration_seconds > 0

    # Metrics per target on the default registry.
    for t in targets:
        assert REGISTRY.get_sample_value("backup_last_success_timestamp_seconds", {"target": t.name}) > 0
        assert REGISTRY.get_sample_value("backup_size_bytes", {"target": t.name}) == result.size_bytes


def test_restore_falls_back_when_first_target_is_down(session, db_url, seeded, targets, make_user, scratch):
    from core.backups import storage

    ops = make_user("ops")
    result = service.run_backup(session=session, actor=ops, targets=targets)
    session.commit()
    # The local folder vanished: the restore uses the next target and says why it skipped the first.
    broken = storage.parse_targets(f"file://{targets[0].root}-gone")[0]
    report = service.restore_into(session=session, actor=ops, backup_id=result.id, into=scratch("fallback"),
                                  targets=[broken, *targets[1:]])
    assert report.ok
    assert report.target == targets[1].name
    assert "not there" in report.skipped_targets[0]


def test_drill_restores_newest_backup_and_drops_scratch(session, db_url, seeded, targets, make_user):
    ops = make_user("ops")
    first = service.run_backup(session=session, actor=ops, targets=targets)
    newest = service.run_backup(session=session, actor=ops, targets=targets)
    session.commit()
    assert first.id != newest.id

    report = service.run_drill(session=session, actor=ops, targets=targets)
    session.commit()
    assert report.ok and report.backup_id == newest.id
    assert scalar(db_url, f"SELECT count(*) FROM pg_database WHERE datname = '{report.into}'") == 0
    drill = session.scalar(select(RestoreRun).where(RestoreRun.kind == RestoreKind.DRILL))
    assert drill.status == "succeeded" and drill.duration_seconds > 0
    assert REGISTRY.get_sample_value("restore_drill_last_status") == 1
    assert REGISTRY.get_sample_value("restore_drill_duration_seconds") > 0
    assert REGISTRY.get_sample_value("restore_drill_last_timestamp_seconds") > 0
    assert [r["kind"] for r in queries.restores(session)] == ["drill"]
    assert session.get(BackupRun, newest.id).manifest["id"] == newest.id
