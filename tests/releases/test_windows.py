"""What changed in a release's window: roadmap changes by when they were made (their audit rows)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from core.feedback import service as feedback
from core.releases import queries


def test_roadmap_changes_fall_in_the_window_they_were_made_whatever_ship_date_was_typed(session, make_user):
    pm = make_user("pm")
    made = session.scalar(select(func.now()))        # the audit rows' time (this transaction's)
    long_ago = made - timedelta(days=40)
    item = feedback.create_roadmap_item(session=session, actor=pm, title="SSO login", status="planned")
    feedback.set_roadmap_status(session=session, actor=pm, roadmap_item_id=item.id, status="in_progress")
    feedback.set_roadmap_status(session=session, actor=pm, roadmap_item_id=item.id, status="shipped",
                                shipped_at=long_ago)
    other = feedback.create_roadmap_item(session=session, actor=pm, title="Dark mode", status="planned")
    session.flush()

    got = queries.roadmap_changes_between(session, made - timedelta(minutes=1), made + timedelta(minutes=1))
    assert [(c["title"], c["change"], c["now"], c["by"]) for c in got] == [
        ("SSO login", "added as planned", "shipped", pm.username),
        ("SSO login", "planned → in_progress", "shipped", pm.username),
        ("SSO login", "in_progress → shipped", "shipped", pm.username),
        ("Dark mode", "added as planned", "planned", pm.username),
    ]
    assert {c["item"] for c in got} == {item.id, other.id}
    # the typed ship date, 40 days back, does not put it in a window back then
    assert queries.roadmap_changes_between(session, long_ago - timedelta(days=1), made - timedelta(minutes=1)) == []
    # the window is (start, end]
    assert queries.roadmap_changes_between(session, made, made + timedelta(minutes=1)) == []
    assert len(queries.roadmap_changes_between(session, None, made)) == 4


def test_release_windows_run_between_succeeded_deployments():
    t = datetime(2026, 5, 1, tzinfo=timezone.utc)
    rows = [{"id": 1, "status": "succeeded", "finished_at": t}, {"id": 2, "status": "failed", "finished_at": t + timedelta(1)},
            {"id": 3, "status": "succeeded", "finished_at": t + timedelta(2)}]
    assert [(d["id"], s, e) for d, s, e in queries.release_windows(rows)] == [(3, t, t + timedelta(2)), (1, None, t)]
