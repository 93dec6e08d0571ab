"""The monitoring domain's scheduled jobs (listed in core.worker.JOB_MODULES)."""

from __future__ import annotations

from core.jobs import scheduled
from core.monitoring import uptime


@scheduled("uptime_probes", trigger="interval", seconds=15, run_at_start=True)
def uptime_job() -> str | None:
    """Probe every configured URL and export probe_success / probe_duration_seconds."""
    results = uptime.run_probes(uptime.configured_probes(), timeout=3.0)
    down = [r.probe.name for r in results if not r.success]
    return f"{len(results)} probes, down: {', '.join(down)}" if down else None
