"""Worker job: refresh the roll-ups whose inputs changed (listed in core.worker.JOB_MODULES)."""

from __future__ import annotations

from datetime import datetime, timezone

from core.jobs import scheduled


@scheduled("page_rollups", trigger="interval", minutes=5, run_at_start=True)
def refresh_job() -> str | None:
    """Feedback comment themes for the page's 3, 6 and 12 month periods."""
    from core.db import session_scope
    from core.rollups.service import refresh_feedback_themes

    with session_scope() as s:
        n = refresh_feedback_themes(session=s, now=datetime.now(timezone.utc))
    return f"{n} roll-ups refreshed" if n else None


@scheduled("page_snapshots", trigger="interval", seconds=50, run_at_start=True)
def snapshots_job() -> str | None:
    """The overview, SLA and feedback pages' default views, so a cold page cache reads one row."""
    from core.db import session_scope
    from core.rollups.service import refresh_snapshots

    with session_scope() as s:
        n = refresh_snapshots(session=s, now=datetime.now(timezone.utc))
    return f"{n} page snapshots refreshed"
