"""The releases page: deployments with why a failed one failed, pending migrations as a warning, what changed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from streamlit.testing.v1 import AppTest

from core.db import migrate

APP = "../../app.py"


@pytest.fixture
def page_db(db_url, session, monkeypatch):
    from core.audit.models import AuditLog
    from core.auth.service import ensure_admin
    from core.feedback.models import RoadmapItem
    from core.flags.models import Flag, FlagVersion
    from core.releases.models import Deployment

    monkeypatch.setenv("AUTH_LOGIN_SLEEP", "0")
    monkeypatch.setenv("PROMETHEUS_URL", "http://127.0.0.1:9")
    now = datetime.now(timezone.utc)
    ensure_admin(session=session, password="admin-password")
    head = migrate.head_revision()
    session.add_all([
        Deployment(version="v1.0.0", commit="a" * 40, revision_before=None, revision_after=head, actor="cli:alice",
                   started_at=now - timedelta(days=3), finished_at=now - timedelta(days=3), status="succeeded",
                   duration_seconds=42.0, steps=[{"step": "smoke", "ok": True, "message": "fine", "seconds": 1}]),
        Deployment(version="v1.1.0", commit="b" * 40, revision_before=head, revision_after=head, actor="cli:alice",
                   started_at=now - timedelta(hours=2), finished_at=now - timedelta(hours=2), status="succeeded",
                   duration_seconds=30.5, steps=[]),
        Deployment(version="v1.2.0", commit="c" * 40, revision_before=head, revision_after=head, actor="cli:bob",
                   started_at=now - timedelta(minutes=5), finished_at=now - timedelta(minutes=4), status="rolled_back",
                   duration_seconds=61.0, error="app health check failed: http://app:8501/_stcore/health answered 502",
                   steps=[{"step": "upgrade", "ok": True, "message": "x", "seconds": 1},
                          {"step": "smoke", "ok": False, "message": "app health check failed", "seconds": 1}],
                   rollback={"method": "downgrade", "ok": True, "message": "downgraded 0010 -> 0009"}),
    ])
    # Roadmap history as the audit log records it: the window goes by when a change was made, not by the ship
    # date typed in (Bulk export was marked shipped yesterday with a ship date of ten days ago).
    bulk = RoadmapItem(title="Bulk export <b>CSV</b>", status="shipped", shipped_at=now - timedelta(days=10))
    old = RoadmapItem(title="Old thing", status="shipped", shipped_at=now - timedelta(days=10))
    session.add_all([bulk, old])
    session.flush()
    session.add_all([
        AuditLog(at=now - timedelta(days=10), actor="pm1", action="roadmap.create", entity="roadmap_item",
                 entity_id=str(old.id), details={"title": old.title, "status": "shipped"}),
        AuditLog(at=now - timedelta(days=5), actor="pm1", action="roadmap.create", entity="roadmap_item",
                 entity_id=str(bulk.id), details={"title": bulk.title, "status": "planned"}),
        AuditLog(at=now - timedelta(days=1), actor="pm1", action="roadmap.status", entity="roadmap_item",
                 entity_id=str(bulk.id), details={"from": "planned", "to": "shipped",
                                                  "shipped_at": (now - timedelta(days=10)).isoformat()}),
    ])
    # A rolling restart half done: a worker still on v1.1.0, a replica on v1.2.0, one replica quiet for 5 minutes.
    from core.releases.heartbeat import ProcessInfo, record_heartbeat
    from core.releases.models import ProcessKind

    for kind, host, pid, version, ago in [(ProcessKind.WORKER, "host-a", 123, "v1.1.0", 40),
                                          (ProcessKind.APP, "host-b", 77, "v1.2.0", 0),
                                          (ProcessKind.APP, "host-c", 88, "v1.1.0", 300)]:
        record_heartbeat(session=session, process=ProcessInfo(kind=kind, host=host, pid=pid, version=version,
                                                              commit=version[1:].replace(".", "") * 8,
                                                              started_at=now - timedelta(hours=1)),
                         seen_at=now - timedelta(seconds=ago))
    flag = Flag(name="new-inbox")
    session.add(flag)
    session.flush()
    session.add(FlagVersion(flag_id=flag.id, version=1, actor="ops1", reason="roll out", snapshot={},
                            created_at=now - timedelta(days=2)))
    session.commit()
    return db_url


def _open(role: str, username: str) -> AppTest:
    import streamlit as st

    st.cache_data.clear()  # loaders are cached per process; each test has its own database
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    at.session_state["name"] = username
    at.session_state["roles"] = [role]
    at.run()
    at.switch_page("pages/releases.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_page_shows_deployments_why_the_last_one_failed_what_each_release_shipped_and_pending_migrations(
        page_db, session):
    at = _open("admin", "admin")
    assert at.title[0].value == "Releases"
    assert "Release #3 (v1.2.0) rolled back at step 'smoke'" in at.error[0].value
    texts = [t.value for t in at.text]
    assert any("app health check failed" in t and "502" in t for t in texts)
    assert any("downgraded 0010 -> 0009" in t for t in texts)
    frames = [df.value for df in at.dataframe]
    table = next(f for f in frames if "duration (s)" in f.columns)
    assert list(table["version"]) == ["v1.2.0", "v1.1.0", "v1.0.0"]
    assert list(table["status"]) == ["rolled back", "succeeded", "succeeded"]
    assert list(table["duration (s)"]) == [61.0, 30.5, 42.0]
    assert "no migrations pending" in at.success[0].value
    # Running versions: which process runs what, and since when it was last heard of.
    running = next(f for f in frames if "last seen" in f.columns)
    assert list(zip(running["kind"], running["host"], running["pid"], running["version"])) == [
        ("app", "host-b", 77, "v1.2.0"), ("app", "host-c", 88, "v1.1.0"), ("worker", "host-a", 123, "v1.1.0")]
    assert running["last seen"][1] == "5 min ago (stale)" and running["last seen"][2].endswith(" s ago")
    assert any("2 versions run side by side (1 on v1.1.0, 1 on v1.2.0)" in w.value for w in at.warning)
    # v1.1.0's window (after v1.0.0, three days ago) holds yesterday's roadmap change and the flag change;
    # v1.0.0's holds what was done before it.
    frames = [df.value for df in at.dataframe]
    roadmap = [f for f in frames if "title" in f.columns]
    assert list(zip(roadmap[0]["title"], roadmap[0]["change"])) == [("Bulk export <b>CSV</b>", "planned → shipped")]
    assert list(zip(roadmap[1]["title"], roadmap[1]["change"])) == [("Old thing", "added as shipped"),
                                                                     ("Bulk export <b>CSV</b>", "added as planned")]
    flags = [f for f in frames if "flag" in f.columns]
    assert list(flags[0]["flag"]) == ["new-inbox"]


    # Pending migrations are a warning.
    from sqlalchemy import text

    session.execute(text("UPDATE alembic_version SET version_num = '0008'"))  # pretend 0009 is not applied
    session.commit()
    at = _open("admin", "admin")
    assert any("migration(s) pending: 0009" in w.value for w in at.warning)
