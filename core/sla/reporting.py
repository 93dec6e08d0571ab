"""SLA reports, aggregated in SQL: breached and at-risk now, compliance by dimension, business-time percentiles.

Compliance of a target = met / (met + breached), where met means the clock stopped within the target and
breached means the counted time exceeded it (stopped or still running); tickets whose clock still runs
within the target are not counted yet. Times are business minutes as counted by the ticket's policy.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import text
from sqlalchemy.orm import Session

DIMENSIONS = {
    "week": "to_char(date_trunc('week', t.created_at AT TIME ZONE :tz), 'YYYY-MM-DD')",
    "team": "coalesce(tm.name, 'No team')",
    "agent": "coalesce(u.name, 'Unassigned')",
    "priority": "t.priority",
    "category": "t.category",
}
BUCKETS = [(15, "< 15 min"), (30, "15-30 min"), (60, "30-60 min"), (120, "1-2 h"), (240, "2-4 h"), (480, "4-8 h"),
           (1440, "8-24 h"), (4320, "1-3 days"), (None, "> 3 days")]

_BASE = """
    FROM ticket_sla s
    JOIN tickets t ON t.id = s.ticket_id
    LEFT JOIN teams tm ON tm.id = t.team_id
    LEFT JOIN users u ON u.id = t.assignee_id
    WHERE t.created_at >= :since
"""


def _since(days: int) -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=days)


def live(*, session: Session, state: str, limit: int = 500) -> list[dict]:
    """Open tickets in state 'breached' or 'at_risk' now, with owner and the due instants, most urgent first."""
    rows = session.execute(text("""
        SELECT t.id, t.subject, t.priority, t.status, t.category, coalesce(tm.name, 'No team') AS team,
               coalesce(u.name, 'Unassigned') AS owner, s.fr_due_at, s.res_due_at, s.res_paused,
               s.fr_breached, s.res_breached, s.fr_stopped_at
        FROM ticket_sla s
        JOIN tickets t ON t.id = s.ticket_id
        LEFT JOIN teams tm ON tm.id = t.team_id
        LEFT JOIN users u ON u.id = t.assignee_id
        WHERE s.active AND s.state = :state
        ORDER BY least(coalesce(s.fr_due_at, 'infinity'), coalesce(s.res_due_at, 'infinity')), t.id
        LIMIT :limit
    """), {"state": state, "limit": limit})
    return [dict(r._mapping) for r in rows]


def compliance(*, session: Session, by: str, days: int = 90, tz: str = "UTC") -> list[dict]:
    """Met, breached and compliance per value of a dimension (week, team, agent, priority, category)."""
    key = DIMENSIONS[by]
    rows = session.execute(text(f"""
        SELECT {key} AS key,
               count(*) FILTER (WHERE s.fr_stopped_at IS NOT NULL AND NOT s.fr_breached) AS fr_met,
               count(*) FILTER (WHERE s.fr_breached) AS fr_breached,
               count(*) FILTER (WHERE s.res_stopped_at IS NOT NULL AND NOT s.res_breached) AS res_met,
               count(*) FILTER (WHERE s.res_breached) AS res_breached,
               count(*) AS tickets
        {_BASE}
        GROUP BY 1 ORDER BY 1
    """), {"since": _since(days), "tz": tz})
    out = []
    for r in rows:
        d = dict(r._mapping)
        for p in ("fr", "res"):
            total = d[f"{p}_met"] + d[f"{p}_breached"]
            d[f"{p}_compliance"] = None if total == 0 else d[f"{p}_met"] / total
        out.append(d)
    return out


def overall(*, session: Session, days: int = 90) -> dict:
    """Compliance and business-time median and p90 of both targets over the period (stopped clocks only)."""
    r = session.execute(text(f"""
        SELECT count(*) FILTER (WHERE s.fr_stopped_at IS NOT NULL AND NOT s.fr_breached) AS fr_met,
               count(*) FILTER (WHERE s.fr_breached) AS fr_breached,
               count(*) FILTER (WHERE s.res_stopped_at IS NOT NULL AND NOT s.res_breached) AS res_met,
               count(*) FILTER (WHERE s.res_breached) AS res_breached,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY s.fr_elapsed_minutes)
                   FILTER (WHERE s.fr_stopped_at IS NOT NULL) AS fr_median,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY s.fr_elapsed_minutes)
                   FILTER (WHERE s.fr_stopped_at IS NOT NULL) AS fr_p90,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY s.res_elapsed_minutes)
                   FILTER (WHERE s.res_stopped_at IS NOT NULL) AS res_median,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY s.res_elapsed_minutes)
                   FILTER (WHERE s.res_stopped_at IS NOT NULL) AS res_p90
        {_BASE}
    """), {"since": _since(days)}).one()
    d = dict(r._mapping)
    for p in ("fr", "res"):
        total = d[f"{p}_met"] + d[f"{p}_breached"]
        d[f"{p}_compliance"] = None if total == 0 else d[f"{p}_met"] / total
    return d


def percentiles(*, session: Session, by: str, days: int = 90, tz: str = "UTC") -> list[dict]:
    """Median and p90 business minutes to first response and to resolution per value of a dimension."""
    key = DIMENSIONS[by]
    rows = session.execute(text(f"""
        SELECT {key} AS key,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY s.fr_elapsed_minutes)
                   FILTER (WHERE s.fr_stopped_at IS NOT NULL) AS fr_median,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY s.fr_elapsed_minutes)
                   FILTER (WHERE s.fr_stopped_at IS NOT NULL) AS fr_p90,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY s.res_elapsed_minutes)
                   FILTER (WHERE s.res_stopped_at IS NOT NULL) AS res_median,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY s.res_elapsed_minutes)
                   FILTER (WHERE s.res_stopped_at IS NOT NULL) AS res_p90
        {_BASE}
        GROUP BY 1 ORDER BY 1
    """), {"since": _since(days), "tz": tz})
    return [dict(r._mapping) for r in rows]


def distribution(*, session: Session, target: str, days: int = 90) -> list[dict]:
    """How many stopped clocks of a target ('first_response' or 'resolution') fall in each business-time bucket."""
    col, stop = {"first_response": ("s.fr_elapsed_minutes", "s.fr_stopped_at"),
                 "resolution": ("s.res_elapsed_minutes", "s.res_stopped_at")}[target]
    cases = " ".join(f"WHEN {col} < {limit} THEN {i}" for i, (limit, _) in enumerate(BUCKETS) if limit is not None)
    rows = dict(session.execute(text(f"""
        SELECT CASE {cases} ELSE {len(BUCKETS) - 1} END AS bucket, count(*)
        {_BASE} AND {stop} IS NOT NULL
        GROUP BY 1
    """), {"since": _since(days)}).all())
    return [{"bucket": label, "tickets": rows.get(i, 0)} for i, (_, label) in enumerate(BUCKETS)]


def breaches_total(*, session: Session, days: int = 7) -> int:
    """SLA breaches recorded over the last days (for the overview)."""
    return session.scalar(text("SELECT count(*) FROM sla_breaches WHERE at >= :since"), {"since": _since(days)})


def at_risk_count(*, session: Session) -> int:
    """Open tickets in the warn-before window now (for the overview)."""
    return session.scalar(text("SELECT count(*) FROM ticket_sla WHERE active AND state = 'at_risk'"))


def sla_kpis(*, session: Session, start: datetime, end: datetime) -> dict:
    """Overview provider: SLA compliance of both targets and business-time medians for tickets created in [start, end)."""
    r = session.execute(text("""
        SELECT count(*) FILTER (WHERE s.fr_stopped_at IS NOT NULL AND NOT s.fr_breached) AS fr_met,
               count(*) FILTER (WHERE s.fr_breached) AS fr_breached,
               count(*) FILTER (WHERE s.res_stopped_at IS NOT NULL AND NOT s.res_breached) AS res_met,
               count(*) FILTER (WHERE s.res_breached) AS res_breached,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY s.fr_elapsed_minutes)
                   FILTER (WHERE s.fr_stopped_at IS NOT NULL) AS fr_median,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY s.res_elapsed_minutes)
                   FILTER (WHERE s.res_stopped_at IS NOT NULL) AS res_median
        FROM ticket_sla s JOIN tickets t ON t.id = s.ticket_id
        WHERE t.created_at >= :start AND t.created_at < :end
    """), {"start": start, "end": end}).one()

    def share(met, breached):
        return None if met + breached == 0 else round(met / (met + breached), 4)

    return {"sla_first_response_compliance": share(r.fr_met, r.fr_breached),
            "sla_resolution_compliance": share(r.res_met, r.res_breached),
            "sla_first_response_median_business_minutes": None if r.fr_median is None else round(r.fr_median, 2),
            "sla_resolution_median_business_minutes": None if r.res_median is None else round(r.res_median, 2)}
