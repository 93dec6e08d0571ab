"""`feedback import` and `accounts import`: good rows in, bad rows named by line, nothing of them stored, idempotent."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from core.accounts.models import Account
from core.cli import main
from core.feedback import measures
from core.feedback.models import DetractorFollowUp, FeedbackItem, SubscriptionEvent
from tests.feedback.conftest import utc


def _write(tmp_path, name, rows):
    path = tmp_path / name
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_feedback_import_good_and_bad_rows_and_idempotency(session, make_account, make_ticket, tmp_path, capsys):
    acc = make_account("acme", mrr=100)
    make_ticket(acc)  # external id T-1
    make_ticket(acc)  # T-2
    session.commit()
    recent = (datetime.now(timezone.utc) - timedelta(days=3)).isoformat()
    future = (datetime.now(timezone.utc) + timedelta(days=3)).isoformat()
    rows = [
        {"external_id": "f1", "account": "acme", "contact_email": "ana@acme.example", "kind": "rating", "score": 5,
         "comment": "Love the <script>alert(1)</script> dashboard", "created_at": "2026-01-05T10:00:00Z"},
        {"external_id": "f2", "account": "acme", "contact_email": "ana@acme.example", "kind": "nps", "score": 3,
         "comment": "too slow", "created_at": recent},
        {"external_id": "f3", "account": "acme", "kind": "csat", "score": 4, "comment": "",
         "created_at": "2026-01-06", "ticket_external_id": "T-1"},
        {"external_id": "b1", "account": "acme", "kind": "nps", "score": 11, "created_at": "2026-01-05T10:00:00Z"},
        {"external_id": "b2", "account": "acme", "kind": "survey", "score": 3, "created_at": "2026-01-05T10:00:00Z"},
        {"external_id": "b3", "account": "nobody", "kind": "rating", "score": 3, "created_at": "2026-01-05T10:00:00Z"},
        {"external_id": "b4", "account": "acme", "kind": "rating", "score": 3, "created_at": future},
        {"external_id": "b5", "account": "acme", "kind": "csat", "score": 2, "created_at": "2026-01-07",
         "ticket_external_id": "T-1"},
        "{not json",
        {"external_id": "f4", "account": "acme", "kind": "csat", "score": 1, "created_at": "2026-01-07",
         "ticket_external_id": "T-2", "contact_email": "ana@acme.example"},
    ]
    path = _write(tmp_path, "feedback.jsonl", rows)
    assert main(["feedback", "import", str(path)]) == 1
    out = capsys.readouterr().out
    assert "line 4: score: 11 is out of range for nps (0 to 10)" in out
    assert "line 5: kind: 'survey' is not one of rating, nps, csat" in out
    assert "line 6: account: unknown account 'nobody'" in out
    assert "line 7: created_at:" in out and "is in the future" in out
    assert "line 8: a second CSAT for ticket 'T-1'" in out
    assert "line 9: not valid JSON" in out
    assert "4 feedback items imported, 0 already there, 6 rejected" in out
    session.expire_all()
    ids = set(session.scalars(select(FeedbackItem.external_id)))
    assert ids == {"f1", "f2", "f3", "f4"}
    # The recent detractor from a paying account opened a follow-up.
    assert session.scalar(select(func.count()).select_from(DetractorFollowUp)) == 1

    assert main(["feedback", "import", str(path)]) == 1
    assert "0 feedback items imported, 4 already there, 6 rejected" in capsys.readouterr().out
    assert session.scalar(select(func.count()).select_from(FeedbackItem)) == 4


def test_feedback_import_of_missing_file_is_a_clear_error(db_url, tmp_path, capsys):
    assert main(["feedback", "import", str(tmp_path / "nope.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_accounts_import_with_events_feeds_churn_and_is_idempotent(session, tmp_path, capsys):
    rows = [
        {"account": "acme", "name": "Acme", "plan": "pro", "mrr": 300, "events": [
            {"type": "started", "at": "2025-06-01", "mrr": 200},
            {"type": "upgraded", "at": "2025-12-01", "mrr": 300},
            {"type": "cancelled", "at": "2026-01-10", "mrr": 300},
            {"type": "reactivated", "at": "2026-01-25", "mrr": 300}]},
        {"account": "globex", "name": "Globex", "plan": "starter", "mrr": 50, "events": [
            {"type": "started", "at": "2025-03-01", "mrr": 50},
            {"type": "cancelled", "at": "2026-01-20", "mrr": 50}]},
        {"account": "bad1", "name": "Bad", "plan": "gold", "mrr": 5, "events": []},
        {"account": "bad2", "name": "Bad", "plan": "pro", "mrr": 5, "events": [{"type": "paused", "at": "2025-01-01"}]},
        {"account": "bad3", "name": "Bad", "plan": "pro", "mrr": -5, "events": []},
        {"account": "bad4", "name": "Bad", "plan": "pro", "mrr": 5, "events": [{"type": "started", "at": "2999-01-01"}]},
    ]
    path = _write(tmp_path, "accounts.jsonl", rows)
    assert main(["accounts", "import", str(path)]) == 1
    out = capsys.readouterr().out
    assert "line 3: plan: 'gold'" in out and "line 4: events[1].type: 'paused'" in out
    assert "line 5: mrr:" in out and "line 6: events[1].at: 2999-01-01 is in the future" in out
    assert "2 accounts imported, 0 already there, 4 rejected" in out
    session.expire_all()
    acme = session.scalar(select(Account).where(Account.key == "acme"))
    globex = session.scalar(select(Account).where(Account.key == "globex"))
    assert (acme.status, acme.mrr, acme.started_at, acme.cancelled_at) == ("active", 300, utc(2025, 6, 1), None)
    assert (globex.status, globex.cancelled_at) == ("churned", utc(2026, 1, 20))
    assert session.scalar(select(Account).where(Account.key.like("bad%"))) is None

    assert main(["accounts", "import", str(path)]) == 1
    assert "0 accounts imported, 2 already there, 4 rejected" in capsys.readouterr().out
    assert session.scalar(select(func.count()).select_from(SubscriptionEvent)) == 6
    jan = measures.churn(session=session, start=utc(2026, 1, 1), end=utc(2026, 2, 1))
    # Both were active on Jan 1 (MRR 300 + 50); both cancelled in January (acme came back the same month).
    assert (jan["active_at_start"], jan["cancelled"], jan["logo_churn"], jan["revenue_churn"]) == (2, 2, 1.0, 1.0)
    feb = measures.churn(session=session, start=utc(2026, 2, 1), end=utc(2026, 3, 1))
    assert (feb["active_at_start"], feb["logo_churn"]) == (1, 0.0)
