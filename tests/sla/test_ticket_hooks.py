"""The ticket service keeps ticket_sla current through its change hook (create, reply, pending, solve)."""

from __future__ import annotations

from core.sla.models import TicketSla
from core.tickets import service as tickets
from core.tickets.enums import Category, Channel, TicketStatus


def test_ticket_changes_refresh_the_sla_row(session, desk):
    agent = desk["agent"]
    t = tickets.create_ticket(session=session, actor=agent, channel=Channel.STAFF,
                              data={"subject": "Webhook retries fail", "description": "They time out",
                                    "account": "acme", "requester_email": "ana@acme.example",
                                    "category": Category.BUG})
    session.commit()
    row = session.get(TicketSla, t.id)
    assert row is not None and row.fr_stopped_at is None and row.active and row.state in ("ok", "at_risk", "breached")
    tickets.public_reply(session=session, actor=agent, ticket_id=t.id, body="Looking into it",
                         status=TicketStatus.PENDING)
    session.commit()
    session.refresh(row)
    assert row.fr_stopped_at is not None and row.res_paused and row.res_due_at is None
    tickets.change_status(session=session, actor=agent, ticket_id=t.id, version=None, status=TicketStatus.SOLVED)
    session.commit()
    session.refresh(row)
    assert row.res_stopped_at is not None and not row.active


def test_imported_history_counts_its_first_reply_and_solve(session, desk, tmp_path):
    """A ticket imported with its first_response_at and solved_at (no reply or status events of ours) is
    measured on those times, not as a first response still waiting and a resolution running until today."""
    import json

    from sqlalchemy import select

    from core.tickets.imports import import_file
    from core.tickets.models import Ticket

    rows = [
        {"external_id": "old-1", "requester_email": "ann@acme.example", "account": "acme", "category": "question",
         "subject": "How do I export?", "description": "Where is the export button?",
         "created_at": "2026-03-02T10:00:00Z", "status": "solved", "first_response_at": "2026-03-02T10:20:00Z",
         "solved_at": "2026-03-02T12:00:00Z"},
        {"external_id": "old-2", "requester_email": "ann@acme.example", "account": "acme", "category": "question",
         "subject": "Second question", "description": "Still open, answered quickly",
         "created_at": "2026-03-02T10:00:00Z", "status": "open", "first_response_at": "2026-03-02T10:10:00Z"},
    ]
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert import_file(path).imported == 2
    session.expire_all()
    solved, still_open = (session.scalar(select(Ticket).where(Ticket.external_id == x)) for x in ("old-1", "old-2"))
    s = session.get(TicketSla, solved.id)
    assert not s.fr_breached and not s.res_breached and not s.active
    assert s.fr_elapsed_minutes == 20 and s.res_elapsed_minutes == 120
    o = session.get(TicketSla, still_open.id)
    assert not o.fr_breached and o.fr_elapsed_minutes == 10
    assert o.res_breached and o.active  # months open: the resolution target is long gone
