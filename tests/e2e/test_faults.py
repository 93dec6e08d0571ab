"""Faults: the database drops every connection under a running app; Prometheus and Alertmanager are down;
the process running a backup is killed mid-dump."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from tests.e2e.conftest import DEMO_PASSWORD, login, wait_idle, wait_logged_in

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


def test_a_backup_killed_mid_dump_is_marked_failed_at_the_next_start_and_no_artifact_is_good(db_url, tmp_path):
    from core.backups import storage
    from core.backups.models import BackupCopy, BackupRun
    from core.db import session_scope
    from core.worker import load_jobs

    engine = create_engine(db_url, poolclass=pool.NullPool)
    with engine.begin() as conn:  # enough data that the dump takes a while
        conn.execute(text("INSERT INTO mail_outbox (to_addr, subject, body, kind) "
                          "SELECT 'x@example.com', 's' || g, repeat(md5(g::text), 64), 'bulk' "
                          "FROM generate_series(1, 60000) g"))
    target = tmp_path / "backups"
    env = dict(os.environ, DATABASE_URL=db_url, BACKUP_TARGETS=f"file://{target}")
    proc = subprocess.Popen([sys.executable, "-m", "core", "backup", "run"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    with engine.connect() as conn:
        while conn.execute(text("SELECT count(*) FROM backup_runs WHERE status = 'running'")).scalar() == 0:
            assert proc.poll() is None, "the backup finished before it could be interrupted"
            assert time.monotonic() < deadline
            conn.rollback()
            time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the worker (and its pg_dump) die mid-run
    proc.wait(10)
    engine.dispose()

    housekeeping = load_jobs()["backup_housekeeping"].func  # what the worker runs first when it starts
    housekeeping()
    with session_scope() as s:
        run = s.query(BackupRun).one()
        assert run.status == "failed" and "interrupted" in run.error
        assert s.query(BackupCopy).filter(BackupCopy.status == "uploaded").count() == 0
    complete = storage.open_target(f"file://{target}").list_backups() if target.exists() else []
    assert run.id not in complete
