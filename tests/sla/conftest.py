"""Fixtures for SLA tests: accounts, a team with a lead, and tickets with events written directly."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from core.accounts.models import Account
from core.auth.models import Team
from core.tickets.models import Ticket, TicketEvent


def utc(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(timezone.utc)


@pytest.fixture
def desk(session, make_user):
    """A team 'support' led by a support lead, an agent, and two accounts (pro and enterprise)."""
    lead = make_user("support_lead", username="lead", team="support")
    agent = make_user("agent", username="agent", team="support")
    team = session.query(Team).filter_by(key="support").one()
    team.lead_user_id = lead.id
    pro = Account(key="acme", name="Acme", plan="pro", started_at=utc("2025-01-01T00:00:00Z"))
    ent = Account(key="globex", name="Globex", plan="enterprise", started_at=utc("2025-01-01T00:00:00Z"))
    session.add_all([pro, ent])
    session.commit()
    return {"lead": lead, "agent": agent, "team": team, "pro": pro, "enterprise": ent}


@pytest.fixture
def make_ticket(session, desk):
    """Factory: make_ticket(created, priority, events=[(at, kind, data/None)], status=..., account=...)."""

    def _make(created: str, priority: str = "high", events=(), status: str = "new", account=None,
              category: str = "bug") -> Ticket:
        at = utc(created)
        t = Ticket(account_id=(account or desk["pro"]).id, subject=f"{priority} ticket", description="d",
                   channel="staff", status=status, priority=priority, category=category, category_source="human",
                   team_id=desk["team"].id, assignee_id=desk["agent"].id, created_at=at, updated_at=at)
        session.add(t)
        session.flush()
        session.add(TicketEvent(ticket_id=t.id, at=at, kind="created", public=True))
        for ev_at, kind, data in events:
            session.add(TicketEvent(ticket_id=t.id, at=utc(ev_at), kind=kind, public=kind != "internal_note",
                                    actor_user_id=desk["agent"].id if kind == "public_reply" else None,
                                    data=data or {}))
        session.commit()
        return t

    return _make
