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
