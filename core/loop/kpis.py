"""Overview KPI override: bug fix time measured to the deployed fix where a ticket is linked to one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

BUG_FIX_SQL = """
    WITH fixed AS (
        SELECT t.created_at,
               COALESCE((SELECT min(f.deployed_at) FROM ticket_fixes f
                          WHERE f.ticket_id = t.id AND f.deployed_at IS NOT NULL), t.solved_at) AS fixed_at
          FROM tickets t
         WHERE t.category = 'bug' AND t.solved_at IS NOT NULL)
    SELECT count(*) AS bugs_fixed,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM fixed_at - created_at) / 3600.0) AS median_hours,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM fixed_at - created_at) / 3600.0) AS p90_hours
      FROM fixed WHERE fixed_at >= :start AND fixed_at < :end"""


def bug_fix_time(*, session: Session, start: datetime, end: datetime) -> dict:
    """Median and p90 hours from a bug report to its deployed fix (to solved when no fix is linked)."""
    row = session.execute(text(BUG_FIX_SQL), {"start": start, "end": end}).one()
    f = (lambda v: None if v is None else round(float(v), 4))
    return {"bugs_fixed": row.bugs_fixed, "median_hours": f(row.median_hours), "p90_hours": f(row.p90_hours)}


def loop_kpis(*, session: Session, start: datetime, end: datetime) -> dict:
    """Provider for core.overview.kpis.PROVIDERS: overrides bug_fix_median_hours (and p90)."""
    bugs = bug_fix_time(session=session, start=start, end=end)
    out = {"bug_fix_median_hours": bugs["median_hours"], "bug_fix_p90_hours": bugs["p90_hours"]}
    if not bugs["bugs_fixed"]:
        out["_reasons"] = {"bug_fix_median_hours": "no bug tickets fixed in this period"}
    return out
