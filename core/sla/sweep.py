"""The SLA sweep: a worker job every minute that marks open tickets at risk or breached, in set-based SQL.

Each ticket's due and warn instants live in ticket_sla (computed in Python by core.sla.service when the
ticket changes). The sweep (1) recomputes the rows of open tickets that changed since their row was
computed or have none (bounded batch), (2) compares every active row's instants with now() in one
UPDATE, (3) records each new breach once per ticket and target (sla_breaches, guarded by its primary
key), appends one sla_breach ticket event per breach and queues one mail per team lead listing the
new breaches, all in SQL statements over sets, never a Python loop over the open tickets.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from prometheus_client import Counter, Gauge
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.config import get_settings
from core.db import session_scope
from core.jobs import scheduled
from core.sla.service import ensure_defaults, load_policy_set, refresh_many, utcnow

log = logging.getLogger(__name__)

SLA_BREACHES = Counter("sla_breaches", "SLA breaches recorded by the sweep", ["target", "priority"])
TICKETS_AT_RISK = Gauge("tickets_at_risk", "Open tickets inside an SLA warn-before window")
TICKETS_BREACHED = Gauge("tickets_sla_breached", "Open tickets with a breached SLA target")
for _target in ("first_response", "resolution"):  # every series exists from the start (rate() needs a zero)
    for _priority in ("high", "medium", "low"):
        SLA_BREACHES.labels(_target, _priority)

STALE_BATCH = 5000
STALE_BUDGET_SECONDS = 20.0  # of the sweep's minute, spent at most on recomputing changed tickets
OPEN = "('new','open','pending','on_hold')"

STALE_SQL = text(f"""
    SELECT t.id FROM tickets t LEFT JOIN ticket_sla ts ON ts.ticket_id = t.id
    WHERE t.status IN {OPEN}
      AND (ts.ticket_id IS NULL OR ts.source_updated_at IS DISTINCT FROM t.updated_at)
    ORDER BY t.id LIMIT :limit
""")

# Open tickets that were closed/solved without their row being refreshed: stop sweeping them.
DEACTIVATE_SQL = text(f"""
    SELECT ts.ticket_id FROM ticket_sla ts JOIN tickets t ON t.id = ts.ticket_id
    WHERE ts.active AND t.status NOT IN {OPEN} LIMIT :limit
""")

MARK_SQL = text("""
    WITH calc AS (
        SELECT ticket_id, fr_b, res_b,
               CASE WHEN fr_b OR res_b THEN 'breached'
                    WHEN (fr_warn_at IS NOT NULL AND fr_warn_at <= :now)
                      OR (res_warn_at IS NOT NULL AND res_warn_at <= :now) THEN 'at_risk'
                    WHEN res_paused THEN 'paused'
                    ELSE 'ok' END AS new_state
        FROM (SELECT ticket_id, fr_warn_at, res_warn_at, res_paused,
                     fr_breached OR (fr_due_at IS NOT NULL AND fr_due_at < :now) AS fr_b,
                     res_breached OR (res_due_at IS NOT NULL AND res_due_at < :now) AS res_b
              FROM ticket_sla WHERE active) x
    )
    UPDATE ticket_sla ts SET state = c.new_state, fr_breached = c.fr_b, res_breached = c.res_b, updated_at = :now
    FROM calc c
    WHERE ts.ticket_id = c.ticket_id
      AND (ts.state <> c.new_state OR ts.fr_breached <> c.fr_b OR ts.res_breached <> c.res_b)
""")

# One statement: new breaches -> sla_breaches (once per ticket and target) -> ticket events -> logged flags.
BREACH_SQL = text("""
    WITH cand AS (
        SELECT ts.ticket_id, 'first_response' AS target, t.priority, ts.fr_due_at AS due_at,
               ts.fr_elapsed_minutes AS elapsed, ts.fr_target_minutes AS target_minutes
        FROM ticket_sla ts JOIN tickets t ON t.id = ts.ticket_id
        WHERE ts.fr_breached AND NOT ts.fr_breach_logged
        UNION ALL
        SELECT ts.ticket_id, 'resolution', t.priority, ts.res_due_at,
               ts.res_elapsed_minutes, ts.res_target_minutes
        FROM ticket_sla ts JOIN tickets t ON t.id = ts.ticket_id
        WHERE ts.res_breached AND NOT ts.res_breach_logged
    ), ins AS (
        INSERT INTO sla_breaches (ticket_id, target, priority, due_at, at, details)
        SELECT ticket_id, target, priority, due_at, :now,
               jsonb_build_object('target_minutes', target_minutes)
        FROM cand
        ON CONFLICT DO NOTHING
        RETURNING ticket_id, target, priority, due_at
    ), ev AS (
        INSERT INTO ticket_events (ticket_id, at, kind, public, data)
        SELECT ticket_id, :now, 'sla_breach', false,
               jsonb_build_object('target', target, 'due_at', due_at, 'priority', priority)
        FROM ins
        RETURNING ticket_id
    ), flag AS (
        UPDATE ticket_sla ts SET fr_breach_logged = ts.fr_breach_logged OR ts.fr_breached,
                                 res_breach_logged = ts.res_breach_logged OR ts.res_breached
        WHERE ts.ticket_id IN (SELECT ticket_id FROM cand)
        RETURNING ts.ticket_id
    )
    SELECT ins.ticket_id, ins.target, ins.priority, ins.due_at,
           (SELECT count(*) FROM ev) AS events, (SELECT count(*) FROM flag) AS flagged
    FROM ins
""")

# The team lead of each newly breached, still open ticket (tickets without a team or lead go unnotified).
LEADS_SQL = text("""
    SELECT b.ticket_id, b.target, b.priority, b.due_at, t.subject, tm.name AS team, u.id AS lead_id,
           u.email AS lead_email, u.name AS lead_name, a.name AS assignee
    FROM sla_breaches b
    JOIN tickets t ON t.id = b.ticket_id
    JOIN teams tm ON tm.id = t.team_id
    JOIN users u ON u.id = tm.lead_user_id AND u.active
    LEFT JOIN users a ON a.id = t.assignee_id
    WHERE b.at = :now AND b.notified_outbox_id IS NULL AND t.status IN ('new','open','pending','on_hold')
    ORDER BY u.id, b.priority, b.ticket_id
""")

COUNTS_SQL = text("""
    SELECT count(*) FILTER (WHERE state = 'at_risk') AS at_risk,
           count(*) FILTER (WHERE state = 'breached') AS breached
    FROM ticket_sla WHERE active
""")


def sweep(*, session: Session, now: datetime | None = None, stale_batch: int = STALE_BATCH,
          budget_seconds: float = STALE_BUDGET_SECONDS) -> dict:
    """One sweep at `now`: refresh changed tickets, mark states, record breaches, notify leads; returns counts."""
    now = now or utcnow()
    ensure_defaults(session=session)
    # Changed tickets in batches until none is left or the time budget is spent (after a policy change
    # every open ticket is stale: 100,000 of them take a few sweeps, not an hour of 5,000-ticket ones).
    deadline = time.monotonic() + budget_seconds
    refreshed, policies = 0, None
    while True:
        stale = list(session.scalars(STALE_SQL, {"limit": stale_batch}))
        stale += list(session.scalars(DEACTIVATE_SQL, {"limit": stale_batch}))
        if not stale:
            break
        policies = policies or load_policy_set(session=session)
        for i in range(0, len(stale), 1000):
            refreshed += refresh_many(session=session, ticket_ids=stale[i:i + 1000], now=now, policies=policies)
        if len(stale) < stale_batch or time.monotonic() > deadline:
            break
        session.commit()  # release this batch's rows: an agent's reply must not wait for the whole backlog
    marked = session.execute(MARK_SQL, {"now": now}).rowcount
    new = session.execute(BREACH_SQL, {"now": now}).all()
    for b in new:
        SLA_BREACHES.labels(b.target, b.priority).inc()
    posts: list[dict] = []
    notified = _notify_leads(session, now, posts) if new else 0
    counts = session.execute(COUNTS_SQL).one()
    TICKETS_AT_RISK.set(counts.at_risk)
    TICKETS_BREACHED.set(counts.breached)
    return {"refreshed": refreshed, "changed": marked, "new_breaches": len(new), "notified_leads": notified,
            "at_risk": counts.at_risk, "breached": counts.breached, "posts": posts}


def _notify_leads(session: Session, now: datetime, posts: list[dict]) -> int:
    """One mail per team lead listing this sweep's new breaches (bounded by the number of leads); the same
    message is added to `posts` for the team's Slack channel, sent after the sweep commits."""
    from core.mail.service import queue_mail

    by_lead: dict[int, list] = {}
    for r in session.execute(LEADS_SQL, {"now": now}):
        by_lead.setdefault(r.lead_id, []).append(r)
    for rows in by_lead.values():
        lead = rows[0]
        lines = [f"- AC-{r.ticket_id} [{r.priority}] {r.target.replace('_', ' ')} target missed "
                 + (f"(due {r.due_at:%Y-%m-%d %H:%M} UTC) " if r.due_at else "")
                 + f"- {r.subject} - {r.assignee or 'unassigned'}"
                 for r in rows[:50]]
        if len(rows) > 50:
            lines.append(f"... and {len(rows) - 50} more")
        body = (f"Hello {lead.lead_name},\n\n{len(rows)} SLA target(s) were just missed in {lead.team}:\n\n"
                + "\n".join(lines) + "\n\nOpen the SLA page of the console for details.\n")
        subject = f"SLA breached: {len(rows)} ticket target(s) in {lead.team}"
        msg = queue_mail(session=session, to=lead.lead_email, kind="sla_breach", subject=subject, body=body,
                         ticket_id=rows[0].ticket_id if len(rows) == 1 else None)
        posts.append({"subject": subject, "body": "\n".join(lines),
                      "dedup_key": f"sla-{lead.team}-{now:%Y%m%dT%H%M}"})
        session.execute(text("""
            UPDATE sla_breaches SET notified_outbox_id = :mid
            WHERE at = :now AND (ticket_id, target) IN (SELECT unnest(CAST(:ids AS bigint[])), unnest(CAST(:targets AS text[])))
        """), {"mid": msg.id, "now": now, "ids": [r.ticket_id for r in rows], "targets": [r.target for r in rows]})
    return len(by_lead)


def run_sweep() -> str:
    """Sweep once in its own transaction, then post the new breaches to Slack when SLACK_WEBHOOK_URL is set
    (through core.monitoring.notify: retried, and each attempt on the Alerts page); a one-line summary."""
    with session_scope() as s:
        result = sweep(session=s)
    posts = result.pop("posts")
    if posts and get_settings().slack_webhook_url:
        from core.monitoring.notify import notify

        for post in posts:
            with session_scope() as s:
                sent = notify(session=s, channel="slack", severity="warning", source="aftercare-sla", **post)
            result["slack"] = result.get("slack", 0) + int(sent.ok)
    return ", ".join(f"{k} {v}" for k, v in result.items())


@scheduled("sla_sweep", trigger="interval", minutes=1, run_at_start=True)
def sla_sweep_job() -> str:
    """Mark tickets at risk or breached, record breaches once, notify team leads."""
    return run_sweep()
