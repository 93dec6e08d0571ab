"""The registry of scheduled jobs: each domain declares its jobs here, the worker runs them.

A domain module declares a job with the decorator, and its module path is listed in
`core.worker.JOB_MODULES` so the worker imports it:

    from core.jobs import scheduled

    @scheduled("sla_sweep", trigger="interval", minutes=1)
    def sweep_job() -> str | None:
        ...   # opens its own session_scope(); returns a short summary for the log (or None)

Triggers and their keyword arguments are APScheduler's ("interval", "cron", "date").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Job:
    id: str
    func: Callable[[], object]
    trigger: str
    trigger_args: dict = field(default_factory=dict)
    run_at_start: bool = False


JOBS: dict[str, Job] = {}


def scheduled(job_id: str, *, trigger: str, run_at_start: bool = False, **trigger_args):
    """Register the decorated zero-argument function as a scheduled job."""

    def deco(func):
        JOBS[job_id] = Job(job_id, func, trigger, trigger_args, run_at_start)
        return func

    return deco
