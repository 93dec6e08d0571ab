"""Demo data for SLA: a calendar with a lunch break and holidays, an enterprise policy, every ticket's clocks."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.sla.models import SlaCalendar, SlaPolicy
from core.sla.service import ensure_defaults, load_policy_set, refresh_many
from core.sla.sweep import sweep
from core.tickets.models import Ticket

FULL_HISTORY_UP_TO = 20_000  # demo sets up to this size get every ticket's clocks
RECENT_DAYS = 7
DEMO_CALENDAR = {
    "timezone": "Europe/Madrid",
    "hours": {d: [["08:00", "14:00"], ["15:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["2026-01-01", "2026-01-06", "2026-05-01", "2026-08-15", "2026-10-12", "2026-11-01",
                 "2026-12-08", "2026-12-25", "2027-01-01", "2027-01-06"],
}


def seed(*, session: Session, rng: random.Random, now: datetime, days: int, tickets: int) -> None:
    """Policies and an extended-hours calendar for enterprise, then compute and sweep every ticket's clocks."""
    ensure_defaults(session=session)
    cal = session.scalar(select(SlaCalendar).where(SlaCalendar.name == "Enterprise extended hours"))
    if cal is None:
        cal = SlaCalendar(name="Enterprise extended hours", **DEMO_CALENDAR)
        session.add(cal)
        session.flush()
    for priority, fr, res, warn in (("high", 30, 240, 10), ("medium", 60, 960, 15)):
        if session.scalar(select(SlaPolicy).where(SlaPolicy.priority == priority, SlaPolicy.plan == "enterprise")):
            continue
        session.add(SlaPolicy(priority=priority, plan="enterprise", first_response_minutes=fr, resolution_minutes=res,
                              warn_before_minutes=warn, business_hours=True, calendar_id=cal.id))
    session.flush()
    query = select(Ticket.id).order_by(Ticket.id)
    if tickets > FULL_HISTORY_UP_TO:  # big sets: clocks of live and recent tickets (`python -m core sla backfill` does the rest)
        query = query.where(Ticket.status.not_in(("solved", "closed")) | (Ticket.created_at >= now - timedelta(days=RECENT_DAYS)))
    ids = list(session.scalars(query))
    policies = load_policy_set(session=session)
    for i in range(0, len(ids), 2000):
        refresh_many(session=session, ticket_ids=ids[i:i + 2000], now=now, policies=policies)
    sweep(session=session, now=now)
    # History: date each recorded breach at its due time when known (the sweep dates them "now").
    session.execute(text("UPDATE sla_breaches SET at = due_at WHERE due_at IS NOT NULL AND due_at < at"))
