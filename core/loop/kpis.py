"""Bug fix time for the loop: the one definition lives in core.feedback.measures (report to deployed fix where
one is linked, else to solved); kept importable here for the fixes module's callers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from core.feedback.measures import bug_fix_time

__all__ = ["bug_fix_time", "loop_kpis"]


def loop_kpis(*, session: Session, start: datetime, end: datetime) -> dict:
    """Bug fix median and p90 hours for [start, end) (the overview takes them from feedback_kpis)."""
    bugs = bug_fix_time(session=session, start=start, end=end)
    out = {"bug_fix_median_hours": bugs["median_hours"], "bug_fix_p90_hours": bugs["p90_hours"]}
    if not bugs["bugs_fixed"]:
        out["_reasons"] = {"bug_fix_median_hours": "no bug tickets fixed in this period"}
    return out
