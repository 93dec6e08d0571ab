"""Health of the console's dependencies: database, Prometheus, Alertmanager, backup storage."""

from __future__ import annotations

from dataclasses import dataclass
import requests
from sqlalchemy import text

from core.config import get_settings


@dataclass(frozen=True)
class Health:
    name: str
    ok: bool
    detail: str


def database() -> Health:
    """Can we run a query on the configured PostgreSQL?"""
    from sqlalchemy.engine import make_url

    from core.db import get_engine
    from core.db.session import database_url

    try:
        url = database_url()
        target = make_url(url)
        where = target.host or target.query.get("host") or "local socket"
        with get_engine(url).connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar()
        return Health("Database", True, f"PostgreSQL {version.split()[0]}")
    except Exception as exc:  # any failure is reported, never raised into a page
        return Health("Database", False, f"cannot reach PostgreSQL at {locals().get('where', '?')}: {_first_line(exc)}")


def _http(name: str, url: str, path: str) -> Health:
    try:
        r = requests.get(url.rstrip("/") + path, timeout=get_settings().http_timeout_seconds)
        if r.status_code == 200:
            return Health(name, True, url)
        return Health(name, False, f"{url} answered HTTP {r.status_code}")
    except requests.RequestException as exc:
        return Health(name, False, f"cannot reach {url}: {type(exc).__name__}")


def prometheus() -> Health:
    return _http("Prometheus", get_settings().prometheus_url, "/-/ready")


def alertmanager() -> Health:
    return _http("Alertmanager", get_settings().alertmanager_url, "/-/ready")


def storage() -> Health:
    """Can every backup target be reached? One cheap request per target, never a listing of its backups."""
    from core.backups.storage import parse_targets

    try:
        targets = parse_targets(get_settings().backup_targets)
    except Exception as exc:  # a malformed BACKUP_TARGETS is reported, not raised
        return Health("Storage", False, f"BACKUP_TARGETS: {_first_line(exc)}")
    if not targets:
        return Health("Storage", False, "no BACKUP_TARGETS configured")
    problems = []
    for target in targets:
        try:
            _probe(target)
        except Exception as exc:
            problems.append(f"{_target_name(target)} unreachable: {_first_line(exc)}")
    if problems:
        return Health("Storage", False, "; ".join(problems))
    return Health("Storage", True, ", ".join(_target_name(t) for t in targets))


def _probe(target) -> None:
    """Raise when the target cannot be read. S3: one ListObjectsV2 of at most one key under the prefix (the
    health check runs on every sidebar refresh, and a bucket can hold thousands of objects); a local folder
    is listed (no request cost)."""
    from core.backups.storage import S3Target

    if isinstance(target, S3Target):
        prefix = f"{target.prefix}/" if target.prefix else ""
        target.client.list_objects_v2(Bucket=target.bucket, Prefix=prefix, MaxKeys=1)
    else:
        target.keys()


def _target_name(target) -> str:
    return getattr(target, "name", None) or type(target).__name__  # name never carries credentials


def all_checks() -> list[Health]:
    return [database(), prometheus(), alertmanager(), storage()]


def _first_line(exc: Exception) -> str:
    msg = str(getattr(exc, "orig", None) or exc).strip()
    return msg.splitlines()[0][:300] if msg else type(exc).__name__
