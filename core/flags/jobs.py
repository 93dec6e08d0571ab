"""Worker job: carry out scheduled flag changes (enable, disable, set rollout) when their time comes."""

from __future__ import annotations

from core.jobs import scheduled


@scheduled("flags_scheduled_changes", trigger="interval", seconds=30, run_at_start=True)
def run_scheduled_flag_changes() -> str | None:
    """Apply every due scheduled change; a summary for the worker's log."""
    from core.db import session_scope
    from core.flags.service import run_due_schedules

    with session_scope() as s:
        done = run_due_schedules(session=s)
        summary = [f"#{d.id} {d.flag.name} {d.environment} {d.action}: {d.status}" for d in done]
    return "; ".join(summary) or None
