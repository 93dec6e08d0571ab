"""The overview's ticket KPIs against hand-computed values, the RAG states, and `metrics --json`."""

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert

from core.accounts.models import Account
from core.overview.kpis import TARGETS, period, scorecard, state, ticket_kpis
from core.tickets.models import Ticket

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def _tickets(session, specs):
    acc = Account(key="a", name="A", plan="pro", mrr=10, started_at=NOW - timedelta(days=400))
    session.add(acc)
    session.flush()
    rows = []
    for created_h_ago, first_h, solved_h in specs:
        created = NOW - timedelta(hours=created_h_ago)
        rows.append(dict(account_id=acc.id, subject="s", description="d", channel="portal", status="solved" if solved_h else "open",
                         priority="medium", category="question", category_source="model", created_at=created,
                         updated_at=created, first_response_at=created + timedelta(hours=first_h) if first_h is not None else None,
                         solved_at=created + timedelta(hours=solved_h) if solved_h else None))
    session.execute(insert(Ticket), rows)
    session.commit()


def test_first_response_and_resolution_medians_and_shares(session):
    # first responses 0.5 h, 1 h, 3 h, none -> median 60 min, 2 of 3 under 2 h
    # resolutions 10 h, 30 h -> median 20 h = 1200 min, 1 of 2 under 24 h
    _tickets(session, [(100, 0.5, 10), (90, 1, 30), (80, 3, None), (70, None, None)])
    got = ticket_kpis(session=session, start=NOW - timedelta(days=30), end=NOW)
    assert got["first_response_median_minutes"] == 60
    assert abs(got["first_response_under_2h_share"] - 2 / 3) < 1e-3
    assert got["resolution_median_minutes"] == 1200
    assert got["resolution_under_24h_share"] == 0.5
    assert got["tickets"] == 4


def test_tiles_without_data_say_so_and_why(session):
    tiles = {t["key"]: t for t in scorecard(session=session, days=7, now=NOW)}
    assert tiles["first_response_median_minutes"]["value"] is None
    assert tiles["first_response_median_minutes"]["state"] == "none"
    assert "no tickets" in tiles["first_response_median_minutes"]["reason"]
    assert len(tiles) == len(TARGETS)


def test_red_amber_green():
    fr = next(t for t in TARGETS if t.key == "first_response_median_minutes")
    assert state(fr, 90) == "green" and state(fr, 140) == "amber" and state(fr, 300) == "red"
    nps = next(t for t in TARGETS if t.key == "nps")
    assert state(nps, 55) == "green" and state(nps, 45) == "amber" and state(nps, 10) == "red"


def test_period_by_month_and_bad_month():
    start, end = period(month="2026-02")
    assert (start.day, start.month, end.month) == (1, 2, 3)
    try:
        period(month="Feb")
    except ValueError as exc:
        assert "2026-11" in str(exc)


def test_metrics_json_cli_prints_every_kpi(db_url, session):
    _tickets(session, [(10, 1, 5)])
    out = subprocess.run([sys.executable, "-m", "core", "metrics", "--json", "--days", "30"], capture_output=True,
                         text=True, check=True, env={**__import__("os").environ, "DATABASE_URL": db_url})
    data = json.loads(out.stdout)
    for key in ("first_response_median_minutes", "resolution_median_minutes", "nps", "csat_share", "logo_churn",
                "bug_fix_median_hours", "feedback_implemented_share"):
        assert key in data
    assert data["first_response_median_minutes"] == 60
