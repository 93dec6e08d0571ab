"""Bulk loading writes exactly what it is given, and the big-set seed matches the small one's rules."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import func, select, text

from core.demo.bulk import copy_rows, reserve_ids


def test_copy_keeps_awkward_text_nulls_and_types(session):
    session.execute(text("CREATE TEMP TABLE bulk_t (id bigserial PRIMARY KEY, s text, b boolean, n numeric, "
                         "at timestamptz, j jsonb, f float8)"))
    at = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
    rows = [("tab\there", True, Decimal("12.50"), at, {"to": "open", "q": "a\\b\n"}, 0.1),
            ("\\N is text, not null", False, None, None, {}, None),
            ("línea 1\nlínea 2\r\n\\", None, 3, at, {"n": [1, 2]}, 1e-7)]
    assert copy_rows(session, "bulk_t", ("s", "b", "n", "at", "j", "f"), rows) == 3
    got = session.execute(text("SELECT s, b, n, at, j, f FROM bulk_t ORDER BY id")).all()
    assert [tuple(r) for r in got] == [tuple(r) for r in rows]


def test_reserved_ids_are_fresh_and_ordered(session):
    session.execute(text("CREATE TEMP TABLE ids_t (id bigserial PRIMARY KEY, s text)"))
    ids = reserve_ids(session, "ids_t", 5)
    assert ids == sorted(ids) and len(set(ids)) == 5
    copy_rows(session, "ids_t", ("id", "s"), [(i, str(i)) for i in ids])
    session.execute(text("INSERT INTO ids_t (s) VALUES ('next')"))
    assert session.scalar(text("SELECT id FROM ids_t WHERE s = 'next'")) > ids[-1]


def test_seeded_tickets_have_their_timelines(session):
    from core.demo.seed import seed_all
    from core.tickets.models import Ticket, TicketEvent

    seed_all(session=session, tickets=200, days=30, seed=5, now=datetime(2026, 11, 20, 12, tzinfo=timezone.utc))
    assert session.scalar(select(func.count()).select_from(Ticket)) == 200
    no_created = session.scalar(text("SELECT count(*) FROM tickets t WHERE NOT EXISTS (SELECT 1 FROM ticket_events e "
                                     "WHERE e.ticket_id = t.id AND e.kind = 'created')"))
    assert no_created == 0
    solved_without_event = session.scalar(text(
        "SELECT count(*) FROM tickets t WHERE t.solved_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ticket_events e "
        "WHERE e.ticket_id = t.id AND e.kind = 'status' AND e.data->>'to' = 'solved' AND e.at = t.solved_at)"))
    assert solved_without_event == 0
    assert session.scalar(select(func.count()).select_from(TicketEvent)) > 400


def test_demo_tickets_the_model_got_wrong_were_corrected_by_the_agent_who_answered(session):
    from core.demo.seed import seed_all
    from core.tickets.classify import human_corrections
    from core.tickets.queue import categoriser_accuracy

    seed_all(session=session, tickets=600, days=30, seed=5, now=datetime(2026, 11, 20, 12, tzinfo=timezone.utc))
    rows = session.execute(text(
        "SELECT t.category, t.category_source, t.assignee_id, e.actor_user_id, e.data "
        "FROM tickets t JOIN ticket_events e ON e.ticket_id = t.id AND e.kind = 'category'")).all()
    assert rows, "some demo texts are ambiguous; the ones handled carry the agent's correction"
    for r in rows:
        assert r.category_source == "human" and r.data["to"] == r.category and r.data["from"] != r.category
        assert r.actor_user_id == r.assignee_id
    created = session.execute(text(
        "SELECT e.data->>'category' FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id "
        "WHERE e.kind = 'created' AND t.category_source = 'human'")).scalars().all()
    assert created and all(c != "human" for c in created)
    # the overview of the categoriser and retraining both see them
    acc = categoriser_accuracy(session=session, days=3650)
    assert acc["corrected"] == len(rows) and acc["accuracy"] < 1
    assert len(human_corrections(session=session)) == len(rows)
