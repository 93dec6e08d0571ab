"""Health of the console's dependencies: database, Prometheus, Alertmanager, backup storage."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

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
    """Is the first backup target reachable (a local folder is checked for writability)?"""
    targets = [t.strip() for t in get_settings().backup_targets.split(",") if t.strip()]
    if not targets:
        return Health("Storage", False, "no BACKUP_TARGETS configured")
    first = targets[0]
    try:
        from core.backups.storage import open_target  # type: ignore[attr-defined]

        target = open_target(first)
        ok, detail = target.health()
        return Health("Storage", ok, detail)
    except ImportError:
        pass
    except Exception as exc:
        return Health("Storage", False, f"{first}: {_first_line(exc)}")
    u = urlparse(first)
    if u.scheme == "file":
        import os

        path = u.path
        ok = os.path.isdir(path) and os.access(path, os.W_OK) or not os.path.exists(path)
        return Health("Storage", ok, f"local folder {path}")
    return Health("Storage", True, f"{len(targets)} target(s) configured")


def all_checks() -> list[Health]:
    return [database(), prometheus(), alertmanager(), storage()]


def _first_line(exc: Exception) -> str:
    msg = str(getattr(exc, "orig", None) or exc).strip()
    return msg.splitlines()[0][:300] if msg else type(exc).__name__
