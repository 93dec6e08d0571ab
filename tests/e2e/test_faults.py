"""Faults: the database drops every connection under a running app; Prometheus and Alertmanager are down;
the worker is killed in the middle of its scheduled backup."""

import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from tests.conftest import ROOT
from tests.e2e.conftest import DEMO_PASSWORD, login, wait_idle, wait_logged_in
from tests.helpers import free_port

pytestmark = pytest.mark.e2e


def _drop_connections(url: str) -> int:
    """What a server restart does to the app: every connection to its database is cut."""
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                              "WHERE datname = :d AND pid <> pg_backend_pid()"),
                         {"d": make_url(url).database}).scalar()
        conn.commit()
    engine.dispose()
    return n


def test_pages_recover_on_the_next_interaction_after_the_database_drops_every_connection(live_app, page):
    login(page, live_app["url"], "lead", DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    wait_logged_in(page)
    assert _drop_connections(live_app["database_url"]) > 0
    page.get_by_role("link", name="Ticket queue").click()
    expect(page.get_by_role("heading", name="Ticket queue")).to_be_visible()
    wait_idle(page)
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    expect(page.get_by_text("Tickets matching")).to_be_visible()


def test_prometheus_and_alertmanager_down_show_banners_not_tracebacks(live_app, page):
    # live_app points PROMETHEUS_URL and ALERTMANAGER_URL at a port where nothing listens.
    login(page, live_app["url"], "ops", DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    wait_logged_in(page)
    for link, heading in (("Monitoring", "Monitoring"), ("Alerts", "Alerts")):
        page.get_by_role("link", name=link, exact=True).click()
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        wait_idle(page)
        expect(page.get_by_text(re.compile(r"(not reachable|unreachable)")).first).to_be_visible()
        expect(page.locator("[data-testid='stException']")).to_have_count(0)
    page.get_by_role("link", name="Feature flags").click()  # the rest of the console still works
    expect(page.get_by_role("heading", name="Feature flags", exact=True)).to_be_visible()


def _worker(env: dict, log: Path) -> subprocess.Popen:
    """`python -m core worker` in a process group of its own (its pg_dump children belong to it)."""
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "core", "worker"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen, sig=signal.SIGTERM) -> None:
    """Stop a worker and everything in its process group; SIGKILL when it does not end within 30 s."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    try:  # a child left in the group (pg_dump) goes too: CI fails on leftover processes
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _until(what: str, check, *, log: Path, proc: subprocess.Popen | None = None, timeout: float = 180):
    """Poll check() until it returns something truthy; fail naming `what` (with the worker's log) otherwise."""
    deadline = time.monotonic() + timeout
    while not (got := check()):
        assert proc is None or proc.poll() is None, f"the worker exited ({proc.returncode}) before {what}:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"no {what} after {timeout:.0f}s:\n{log.read_text()[-3000:]}"
        time.sleep(0.2)
    return got


def _next_minute(tz: str, margin_s: int) -> str:
    """HH:MM (in tz) of the first whole minute at least margin_s seconds from now: a BACKUP_TIME the worker
    reaches soon, with time to start and schedule first."""
    at = datetime.now(ZoneInfo(tz)) + timedelta(seconds=margin_s, minutes=1)
    return f"{at:%H:%M}"


def test_the_worker_killed_mid_backup_marks_the_run_failed_at_its_next_start_and_no_artifact_is_good(
        db_url, tmp_path):
    from core.backups import queries, storage
    from core.backups.models import BackupCopy, BackupRun
    from core.config import get_settings
    from core.db import session_scope

    engine = create_engine(db_url, poolclass=pool.NullPool)
    dbname = make_url(db_url).database
    target, work, log = tmp_path / "backups", tmp_path / "worker-tmp", tmp_path / "worker.log"
    work.mkdir()
    tz = get_settings().business_timezone
    # A table someone holds an exclusive lock on: the scheduled pg_dump waits on it, mid-run, for as long as the
    # test needs (its own lock-wait timeout is minutes), and nothing else in the worker touches it.
    blocker = engine.connect()
    blocker.execute(text("CREATE TABLE fault_probe (id int)"))
    blocker.commit()
    blocker.execute(text("LOCK TABLE fault_probe IN ACCESS EXCLUSIVE MODE"))
    env = dict(os.environ, DATABASE_URL=db_url, BACKUP_TARGETS=f"file://{target}", TMPDIR=str(work),
               PROMETHEUS_URL="http://127.0.0.1:9", ALERTMANAGER_URL="http://127.0.0.1:9", PYTHONUNBUFFERED="1")
    # The daily backup is a cron job at BACKUP_TIME (minute precision): the next minute that leaves time to start.
    first = _worker(dict(env, WORKER_METRICS_PORT=str(free_port()), BACKUP_TIME=_next_minute(tz, 45)), log)
    second = None
    try:
        def dump_waiting():
            with engine.connect() as conn:
                run = conn.execute(text("SELECT id FROM backup_runs WHERE status = 'running' "
                                        "AND trigger = 'scheduled'")).scalar()
                waiting = conn.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = :d AND application_name = 'pg_dump' "
                    "AND wait_event_type = 'Lock'"), {"d": dbname}).scalar()
            started = run and any(work.glob(f"aftercare-backup-*/{run}.dump"))  # its dump file is being written
            return run if waiting and started else None

        run_id = _until("scheduled backup with its pg_dump under way", dump_waiting, proc=first, log=log)
        os.killpg(first.pid, signal.SIGKILL)  # the worker and its pg_dump die mid-run, as on an OOM kill
        first.wait(10)

        # The lock goes; the dead processes' server sessions then end (one held the backup lock).
        blocker.rollback()
        blocker.close()

        def sessions_gone():
            with engine.connect() as conn:
                return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d "
                                         "AND pid <> pg_backend_pid()"), {"d": dbname}).scalar() == 0

        _until("end of the killed worker's database sessions", sessions_gone, log=log, timeout=60)
        with session_scope() as s:
            assert s.get(BackupRun, run_id).status == "running"  # nobody has looked yet

        # Start again (no backup due now): start-up housekeeping finds the dead run.
        second = _worker(dict(env, WORKER_METRICS_PORT=str(free_port()), BACKUP_TIME=_next_minute(tz, 6 * 3600)),
                         log)

        def marked_failed():
            with engine.connect() as conn:
                return conn.execute(text("SELECT status FROM backup_runs WHERE id = :i"), {"i": run_id}).scalar() \
                    == "failed"

        _until("start-up housekeeping marking the run failed", marked_failed, proc=second, log=log, timeout=120)
        _stop(second)
        assert second.returncode == 0, log.read_text()[-3000:]

        with session_scope() as s:
            run = s.get(BackupRun, run_id)
            assert run.status == "failed" and run.error.startswith("interrupted")
            assert s.query(BackupCopy).filter(BackupCopy.backup_id == run_id).count() == 0
            [listed] = [r for r in queries.list_backups(s) if r["id"] == run_id]
            assert listed["status"] == "failed" and not listed["restorable"]
        # The half-written dump stayed in the dead process's staging folder; the target never saw it.
        assert run_id not in storage.parse_target(f"file://{target}").backup_ids()
        assert not any(run_id in p.name for p in target.glob("*"))
    finally:
        blocker.close()
        for proc in (first, second):
            if proc is not None:
                _stop(proc, signal.SIGKILL)
        engine.dispose()
