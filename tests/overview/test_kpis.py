"""The overview's ticket KPIs against hand-computed values, the RAG states, and `metrics --json`."""

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
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
    out = subprocess.run([sys.executable, "-m", "core", "metrics", "--json", "--month", NOW.strftime("%Y-%m")], capture_output=True,
                         text=True, check=True, env={**__import__("os").environ, "DATABASE_URL": db_url})
    data = json.loads(out.stdout)
    for key in ("first_response_median_minutes", "resolution_median_minutes", "nps", "csat_share", "logo_churn",
                "bug_fix_median_hours", "feedback_implemented_share"):
        assert key in data
    assert data["first_response_median_minutes"] == 60


def _nps_answers(session, scores, at):
    from core.feedback.models import FeedbackItem

    acc = Account(key=f"n{len(scores)}", name="N", plan="pro", mrr=10, started_at=at - timedelta(days=400))
    session.add(acc)
    session.flush()
    session.add_all([FeedbackItem(kind="nps", score=s, account_id=acc.id, created_at=at, updated_at=at, source="import")
                     for s in scores])
    session.commit()


def test_the_nps_tile_shows_its_count_and_is_not_green_on_too_few_answers(session):
    _nps_answers(session, [10], NOW - timedelta(days=2))
    nps = next(t for t in scorecard(session=session, days=7, now=NOW) if t["key"] == "nps")
    assert nps["value"] == 100 and nps["state"] == "few"                 # one 10 is not "on target"
    assert nps["note"] == "1 response · too few to trust (n<30)"
    _nps_answers(session, [9] * 20 + [7] * 5 + [3] * 4, NOW - timedelta(days=1))   # 30 answers: 21 - 4 of 30
    nps = next(t for t in scorecard(session=session, days=7, now=NOW) if t["key"] == "nps")
    assert nps["value"] == pytest.approx(56.7) and nps["state"] == "green" and nps["note"] == "30 responses"


def test_the_churn_tile_is_monthly_whatever_the_period(session):
    from core.feedback.models import SubscriptionEvent

    # Ten accounts since 2025; one leaves in each of September and October 2026 and one on 5 November.
    # September: 1/10; October: 1/9; November (running, 20 Nov): not a complete month.
    accs = [Account(key=f"c{i}", name=f"C{i}", plan="pro", mrr=100, started_at=datetime(2025, 1, 1, tzinfo=timezone.utc))
            for i in range(10)]
    session.add_all(accs)
    session.flush()
    for acc, day in zip(accs, (datetime(2026, 9, 10), datetime(2026, 10, 10), datetime(2026, 11, 5))):
        session.add_all([SubscriptionEvent(account_id=acc.id, type="started", at=acc.started_at, mrr=100),
                         SubscriptionEvent(account_id=acc.id, type="cancelled", at=day.replace(tzinfo=timezone.utc), mrr=100)])
    session.commit()
    tiles = {d: next(t for t in scorecard(session=session, days=d, now=NOW) if t["key"] == "logo_churn") for d in (30, 90)}
    # 30 days (21 Oct - 20 Nov) hold no complete month: October, against September.
    assert tiles[30]["value"] == pytest.approx(1 / 9) and tiles[30]["previous"] == pytest.approx(0.1)
    assert tiles[30]["note"].startswith("month 2026-10")
    # 90 days (22 Aug - 20 Nov): September and October averaged (not 3/10 over the quarter), against July-August.
    assert tiles[90]["value"] == pytest.approx((0.1 + 1 / 9) / 2) and tiles[90]["previous"] == 0.0
    assert tiles[90]["note"].startswith("average of 2026-09 to 2026-10")
    assert tiles[90]["state"] == "red"                                   # 10.6% a month against under 5%


def _metrics_json(capsys, *argv):
    from core.cli import main

    code = main(["metrics", "--json", *argv])
    out = capsys.readouterr()
    return code, (json.loads(out.out) if out.out.strip() else None), out.err


def test_metrics_json_prints_every_contract_key_even_without_data(db_url, capsys):
    code, data, err = _metrics_json(capsys, "--month", "2020-01")
    assert code == 0 and err == ""
    for key in ("nps", "nps_responses", "csat_share", "csat_average", "rating_average", "logo_churn", "revenue_churn",
                "first_response_median_minutes", "resolution_median_minutes", "bug_fix_median_hours",
                "feedback_implemented_share", *(t.key for t in TARGETS)):
        assert key in data, key
    assert data["nps"] is None and data["logo_churn"] is None and data["nps_responses"] == 0
    assert data["start"].startswith("2020-01-01") and data["churn_months"] == ["2020-01"]


def test_a_failing_provider_keeps_every_key_says_so_and_exits_non_zero(db_url, capsys, monkeypatch):
    from core.overview import kpis

    monkeypatch.setattr(kpis, "PROVIDERS", [("core.overview.kpis:ticket_kpis", "tickets"),
                                            ("tests.overview.test_kpis:broken_feedback", "the feedback module")])
    code, data, err = _metrics_json(capsys, "--days", "30")
    assert code == 1
    assert "the feedback module failed: surveys table is on fire" in err
    for key in ("nps", "nps_responses", "csat_share", "csat_average", "rating_average", "logo_churn", "revenue_churn",
                "bug_fix_median_hours", "feedback_implemented_share"):
        assert key in data and data[key] is None, key


def broken_feedback(*, session, start, end):
    raise RuntimeError("surveys table is on fire")


def test_metrics_on_an_unmigrated_or_unreachable_database_is_a_clear_error(pg_server_url, monkeypatch, capsys):
    import uuid

    from sqlalchemy import create_engine, pool, text
    from sqlalchemy.engine import make_url

    from core.config import get_settings
    from core.db import reset_engines

    name = f"empty_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_server_url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        monkeypatch.setenv("DATABASE_URL", make_url(pg_server_url).set(database=name).render_as_string(hide_password=False))
        get_settings.cache_clear()
        reset_engines()
        code, data, err = _metrics_json(capsys)
        assert code != 0 and data is None
        assert "has no Aftercare tables" in err and "db upgrade" in err
        monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://nobody@127.0.0.1:9/nothing")
        get_settings.cache_clear()
        reset_engines()
        code, data, err = _metrics_json(capsys)
        assert code != 0 and data is None
        assert err.startswith("error: cannot reach the database") and "Traceback" not in err
    finally:
        reset_engines()
        get_settings.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
