"""Ticket jobs: send the mail outbox, and export open tickets by priority."""

from __future__ import annotations

from prometheus_client import Gauge
from sqlalchemy import text

from core.db import session_scope
from core.jobs import scheduled

OPEN_TICKETS = Gauge("aftercare_open_tickets", "Open tickets by priority", ["priority"])


@scheduled("send_mail", trigger="interval", seconds=30, run_at_start=True)
def send_mail_job() -> str:
    """Send queued and retry-due mail."""
    from core.mail.service import send_due

    with session_scope() as s:
        return str(send_due(session=s))


@scheduled("open_tickets_gauge", trigger="interval", minutes=1, run_at_start=True)
def open_tickets_job() -> str:
    """Refresh the open-tickets-by-priority gauge."""
    with session_scope() as s:
        rows = s.execute(text("""
            SELECT p.priority, count(t.id) FROM (VALUES ('high'),('medium'),('low')) p(priority)
            LEFT JOIN tickets t ON t.priority = p.priority AND t.status IN ('new','open','pending','on_hold')
            GROUP BY p.priority
        """)).all()
    for priority, n in rows:
        OPEN_TICKETS.labels(priority).set(n)
    return ", ".join(f"{p}={n}" for p, n in rows)
