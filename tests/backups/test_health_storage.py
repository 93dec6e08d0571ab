"""The sidebar's storage check (core.health.storage) against moto's S3 server: one cheap request per bucket,
never a listing of its backups, and a message that names the target that is down and why."""

from __future__ import annotations

import uuid

import boto3
import pytest

from core import health
from core.config import get_settings


@pytest.fixture
def s3_calls(monkeypatch):
    """Every S3 operation (name, parameters) made by boto3 clients created from now on."""
    calls: list[tuple[str, dict]] = []
    session = boto3.session.Session()
    session.events.register("provide-client-params.s3",  # what our code asked for, before botocore adds its own
                            lambda params, model, **_: calls.append((model.name, dict(params))))
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)  # S3Target's boto3.client() builds from it
    return calls


@pytest.fixture
def check(monkeypatch):
    """check(spec) -> health.storage() with BACKUP_TARGETS=spec."""
    def _check(spec: str) -> health.Health:
        monkeypatch.setenv("BACKUP_TARGETS", spec)
        get_settings.cache_clear()
        return health.storage()

    yield _check
    get_settings.cache_clear()


def test_a_bucket_full_of_backups_is_checked_with_one_request_of_at_most_one_key(check, s3_calls, moto_url,
                                                                                 buckets, tmp_path):
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    for i in range(5):
        s3.put_object(Bucket=buckets["east"], Key=f"aftercare/20240101T00000{i}Z-x.dump", Body=b"x")
    s3_calls.clear()

    got = check(f"file://{tmp_path / 'local'},"
                f"s3://{buckets['east']}/aftercare?region=us-east-1&endpoint={moto_url},"
                f"s3://{buckets['west']}?region=eu-west-1&endpoint={moto_url}")

    assert got.ok, got.detail
    assert got.detail == f"file://{tmp_path / 'local'}, s3://{buckets['east']}/aftercare, s3://{buckets['west']}"
    assert s3_calls == [
        ("ListObjectsV2", {"Bucket": buckets["east"], "Prefix": "aftercare/", "MaxKeys": 1}),
        ("ListObjectsV2", {"Bucket": buckets["west"], "Prefix": "", "MaxKeys": 1}),
    ]


def test_an_s3_endpoint_that_stopped_is_named_with_the_reason(check, moto_private, aws_env, tmp_path):
    bucket = f"ac-health-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=moto_private.url, region_name="us-east-1").create_bucket(Bucket=bucket)
    spec = f"file://{tmp_path / 'local'},s3://{bucket}/aftercare?region=us-east-1&endpoint={moto_private.url}"
    assert check(spec).ok

    moto_private.stop()
    got = check(spec)

    assert not got.ok
    assert got.detail.startswith(f"s3://{bucket}/aftercare unreachable: Could not connect to the endpoint URL")
    assert "file://" not in got.detail  # the folder is fine and is not blamed


def test_a_missing_bucket_is_reported_by_its_name(check, moto_url, aws_env):
    bucket = f"ac-missing-{uuid.uuid4().hex[:8]}"
    got = check(f"s3://{bucket}/aftercare?region=us-east-1&endpoint={moto_url}")
    assert not got.ok
    assert got.detail.startswith(f"s3://{bucket}/aftercare unreachable:") and "NoSuchBucket" in got.detail


def test_every_target_that_is_down_is_listed(check, moto_url, aws_env, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    bucket = f"ac-missing-{uuid.uuid4().hex[:8]}"
    got = check(f"file://{tmp_path / 'a-file'},s3://{bucket}?region=us-east-1&endpoint={moto_url}")
    assert not got.ok
    first, second = got.detail.split("; ")
    assert first.startswith(f"file://{tmp_path / 'a-file'} unreachable: ")
    assert second.startswith(f"s3://{bucket} unreachable: ")
