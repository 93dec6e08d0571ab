"""Roll-ups: the worker's stored feedback themes are what the page would compute, and stop being served once
the period's comments change."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from core.accounts.models import Contact
from core.feedback.models import FeedbackItem
from core.feedback.themes import comment_themes
from core.jobs import JOBS
from core.rollups import service
from core.rollups.models import PageRollup

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def _seed(session):
    from core.demo.seed import seed_all

    seed_all(session=session, tickets=300, days=90, seed=3, now=NOW)


def test_stored_themes_equal_the_live_ones_until_a_comment_arrives(session):
    _seed(session)
    start, end = service.month_period(6, NOW)
    live = comment_themes(session=session, start=start, end=end, filters={"kind": (), "plan": ()})
    assert live, "the demo comments form themes"

    assert service.refresh_feedback_themes(session=session, now=NOW) == 3
    assert session.scalar(select(PageRollup.payload).where(PageRollup.key == service.themes_key(start, end)))
    assert service.feedback_themes(session=session, start=start, end=end,
                                   compute=lambda: (_ for _ in ()).throw(AssertionError("recomputed"))) == live
    assert service.refresh_feedback_themes(session=session, now=NOW) == 0  # nothing changed: nothing recomputed

    contact = session.scalar(select(Contact).order_by(Contact.id))
    session.add(FeedbackItem(kind="rating", score=1, comment="The dashboard is very slow to load again",
                             account_id=contact.account_id, contact_id=contact.id, source="portal",
                             created_at=NOW - timedelta(days=1), updated_at=NOW - timedelta(days=1)))
    session.flush()
    key, fp = service.themes_key(start, end), service.themes_fingerprint(session=session, start=start, end=end)
    assert service.cached(session=session, key=key, fingerprint=fp) is None  # the stored result is stale now
    fresh = comment_themes(session=session, start=start, end=end, filters={})
    assert service.feedback_themes(session=session, start=start, end=end) == fresh
    assert sum(t["count"] for t in fresh) >= sum(t["count"] for t in live)


def test_the_worker_knows_the_rollup_job():
    from core.worker import JOB_MODULES, load_jobs

    assert "core.rollups.jobs" in JOB_MODULES
    load_jobs()
    assert "page_rollups" in JOBS and "page_snapshots" in JOBS


def test_page_snapshots_give_back_what_the_loaders_compute_and_expire(session):
    from sqlalchemy import text

    _seed(session)
    now = datetime.now(timezone.utc)
    assert service.refresh_snapshots(session=session, now=now) == 6
    for key, compute in service.default_snapshots(now):
        stored = service.snapshot(session=session, key=key, max_age_seconds=60)
        assert stored is not None, key
        assert stored == compute(session, now), key
    key = service.snapshot_key("overview_scorecard", 30)
    session.execute(text("UPDATE page_rollups SET refreshed_at = now() - interval '2 minutes' WHERE key = :k"),
                    {"k": key})
    assert service.snapshot(session=session, key=key, max_age_seconds=60) is None  # too old: the page computes live
