"""Process heartbeats: one row per running process, refreshed in place; gone processes pruned; a clean stop
leaves the list; a database that is down is survived."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from core.releases import heartbeat
from core.releases.heartbeat import Heartbeat, ProcessInfo, record_heartbeat, running_processes
from core.releases.models import ProcessHeartbeat, ProcessKind
from tests.helpers import free_port


def _rows(session) -> list[ProcessHeartbeat]:
    session.expire_all()
    return session.scalars(select(ProcessHeartbeat).order_by(ProcessHeartbeat.kind, ProcessHeartbeat.pid)).all()


def test_a_process_keeps_one_row_refreshed_in_place_and_processes_gone_for_ten_minutes_are_pruned(db_url, session):
    worker = Heartbeat(ProcessKind.WORKER, url=db_url)
    assert worker.process.pid > 0 and worker.process.version and worker.process.host

    assert worker.beat()
    [first] = _rows(session)
    first_seen = first.last_seen
    assert worker.beat() and worker.beat()
    [row] = _rows(session)  # still one row: the same process refreshed it
    assert (row.instance, row.kind, row.pid, row.commit) == (worker.process.instance, "worker", worker.process.pid,
                                                            worker.process.commit)
    assert row.last_seen >= first_seen

    # Another process (an app replica on another host) has its own row; one last seen 11 minutes ago is pruned
    # by any heartbeat (its own late one included), and one seen 5 minutes ago is kept but no longer fresh.
    now = datetime.now(timezone.utc)
    app = ProcessInfo(kind=ProcessKind.APP, host="host-b", pid=77, version="v1.2.0", commit="b" * 40, started_at=now)
    dead = ProcessInfo(kind=ProcessKind.APP, host="host-c", pid=5, version="v1.1.0", commit="c" * 40,
                       started_at=now - timedelta(hours=1))
    quiet = ProcessInfo(kind=ProcessKind.WORKER, host="host-d", pid=9, version="v1.1.0", commit="c" * 40,
                        started_at=now - timedelta(hours=1))
    record_heartbeat(session=session, process=app)
    record_heartbeat(session=session, process=dead, seen_at=now - timedelta(minutes=11))
    record_heartbeat(session=session, process=quiet, seen_at=now - timedelta(minutes=5))
    session.commit()
    assert worker.beat()
    assert {(r.host, r.pid) for r in _rows(session)} == {(worker.process.host, worker.process.pid),
                                                          ("host-b", 77), ("host-d", 9)}
    fresh = running_processes(session, within=heartbeat.FRESH)
    assert {(p.kind, p.host, p.pid) for p in fresh} == {("worker", worker.process.host, worker.process.pid),
                                                       ("app", "host-b", 77)}
    [b] = [p for p in fresh if p.host == "host-b"]
    assert b.describe().startswith("app on host-b pid 77 (seen ") and b.describe().endswith(" s ago)")

    # A clean stop removes the process's own row, nobody else's.
    worker.stop()
    assert {(r.host, r.pid) for r in _rows(session)} == {("host-b", 77), ("host-d", 9)}


def test_the_heartbeat_thread_reports_while_running_and_leaves_the_list_when_stopped(db_url, session):
    hb = Heartbeat(ProcessKind.APP, url=db_url, interval=3600).start()
    try:
        deadline = time.monotonic() + 60  # waits for the thread's first beat; asserts nothing about speed
        while not _rows(session) and time.monotonic() < deadline:
            time.sleep(0.05)
        [row] = _rows(session)
        assert row.kind == "app" and row.instance == hb.process.instance
    finally:
        hb.stop()
    assert _rows(session) == []


def test_a_database_that_is_down_is_survived_and_the_next_beat_records_again(db_url, session):
    down = f"postgresql+psycopg2://nobody@127.0.0.1:{free_port()}/none"
    hb = Heartbeat(ProcessKind.WORKER, url=down)
    assert hb.beat() is False and hb.beat() is False  # logged, never raised
    hb.stop()  # nothing to remove, nothing raised
    hb.url = db_url  # the database is back
    assert hb.beat() is True
    assert session.scalar(select(func.count()).select_from(ProcessHeartbeat)) == 1
