"""The worker's channel jobs: registered, skipped when disabled, retried with backoff after a failure."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest


def test_jobs_are_registered_with_the_worker():
    from core.worker import JOB_MODULES, load_jobs

    assert "core.channels.jobs" in JOB_MODULES
    jobs = load_jobs()
    assert {"mailbox_poll", "zendesk_sync", "front_sync"} <= set(jobs)


def test_mailbox_job_backs_off_after_a_failure(db_url, session, make_user, monkeypatch):
    from core.channels import jobs
    from core.channels.service import save_config
    from core.config import get_settings
    from tests.helpers import free_port

    monkeypatch.setenv("IMAP_URL", f"imap://u:p@127.0.0.1:{free_port()}/INBOX")
    get_settings.cache_clear()
    assert jobs.mailbox_poll_job() == "mailbox is not enabled"
    save_config(session=session, actor=make_user("admin"), key="mailbox", enabled=True, config={})
    session.commit()
    with pytest.raises(RuntimeError, match="cannot reach"):
        jobs.mailbox_poll_job()
    assert "backing off" in jobs.mailbox_poll_job()  # not retried at once
    assert jobs.zendesk_sync_job() == "zendesk is not enabled"
    get_settings.cache_clear()


def test_backoff_doubles_and_is_bounded(db_url, session):
    from core.channels.jobs import backoff_remaining
    from core.channels.models import SyncRun

    start = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
    for i in range(3):
        session.add(SyncRun(provider="front", status="failed", started_at=start + timedelta(seconds=i), error="down"))
    session.commit()
    # three failures in a row: 60 s * 2**2 from the last one
    left = backoff_remaining(session=session, provider="front", interval_seconds=60, now=start + timedelta(seconds=2))
    assert left == 240
    for i in range(10):
        session.add(SyncRun(provider="front", status="failed", started_at=start + timedelta(seconds=10 + i)))
    session.commit()
    assert backoff_remaining(session=session, provider="front", interval_seconds=60,
                             now=start + timedelta(seconds=19)) == 3600
    session.add(SyncRun(provider="front", status="ok", started_at=start + timedelta(seconds=30)))
    session.commit()
    assert backoff_remaining(session=session, provider="front", interval_seconds=60) == 0
