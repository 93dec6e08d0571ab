"""Backup fixtures: moto's S3 server with buckets in two regions, storage targets, seeded data, scratch databases."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, pool, text

from tests.helpers import free_port, need_binary, wait_http

ROOT = Path(__file__).resolve().parents[2]


class MotoServer:
    """moto's S3 server on a free loopback port; stop() takes the endpoint down (as an outage would)."""

    def __init__(self):
        # the moto of this interpreter's environment first (a shim elsewhere on PATH may lack it)
        binary = need_binary(str(Path(sys.executable).parent / "moto_server"), "moto_server")
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        try:
            wait_http(f"{self.url}/moto-api/")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def moto_url():
    """A moto S3 server on loopback for the whole session (stopped at the end)."""
    server = MotoServer()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def moto_private():
    """A moto S3 server of this test's own, which the test may stop; stopped at the end in any case."""
    server = MotoServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def aws_env(monkeypatch):
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    for k in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(k, raising=False)


@pytest.fixture
def buckets(moto_url, aws_env):
    """Two fresh buckets: one in us-east-1, one in eu-west-1 (the multi-region copy)."""
    import boto3

    tag = uuid.uuid4().hex[:8]
    east, west = f"ac-east-{tag}", f"ac-west-{tag}"
    boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1").create_bucket(Bucket=east)
    boto3.client("s3", endpoint_url=moto_url, region_name="eu-west-1").create_bucket(
        Bucket=west, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return {"east": east, "west": west}


@pytest.fixture
def target_spec(tmp_path, moto_url, buckets):
    """BACKUP_TARGETS for a local folder and the two buckets (with server-side encryption and a storage class)."""
    return ",".join([
        f"file://{tmp_path / 'local-backups'}",
        f"s3://{buckets['east']}/aftercare?region=us-east-1&endpoint={moto_url}&sse=AES256",
        f"s3://{buckets['west']}/aftercare?region=eu-west-1&endpoint={moto_url}&storage_class=STANDARD_IA",
    ])


@pytest.fixture
def targets(target_spec):
    from core.backups import storage

    return storage.parse_targets(target_spec)


@pytest.fixture
def seeded(db_url):
    """A few accounts and tickets (raw SQL, so other domains' new columns with defaults do not matter)."""
    eng = create_engine(db_url, poolclass=pool.NullPool)
    with eng.begin() as conn:
        for i in range(3):
            acc = conn.execute(text(
                "INSERT INTO accounts (key, name, plan, started_at) VALUES (:k, :n, 'pro', now()) RETURNING id"),
                {"k": f"acme-{i}", "n": f"Acme {i}"}).scalar()
            for j in range(4):
                conn.execute(text(
                    "INSERT INTO tickets (account_id, subject, description, channel, priority, category, "
                    "category_source) VALUES (:a, :s, 'it broke', 'email', 'high', 'bug', 'model')"),
                    {"a": acc, "s": f"Ticket {i}-{j}"})
    eng.dispose()
    return {"accounts": 3, "tickets": 12}


@pytest.fixture
def scratch(pg_server_url):
    """Names of scratch databases made by a test; every one is dropped afterwards."""
    names: list[str] = []

    def make(prefix: str = "scratch") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        names.append(name)
        return name

    yield make
    admin = create_engine(pg_server_url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def url_of(db_url: str, dbname: str) -> str:
    from core.backups.restore import url_for

    return url_for(db_url, dbname)


def scalar(url: str, sql: str):
    eng = create_engine(url, poolclass=pool.NullPool)
    try:
        with eng.connect() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        eng.dispose()


os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
