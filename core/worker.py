"""The worker: runs the registered jobs (core.jobs) under APScheduler; one leader among many.

Every worker serves /metrics; only the one holding the PostgreSQL advisory lock schedules jobs, the
others wait and take over when the leader's connection goes away.
"""

from __future__ import annotations

import importlib
import logging
import signal
import threading
import time

from prometheus_client import Counter, Gauge, Histogram, start_http_server
from sqlalchemy import text

from core.config import get_settings
from core.jobs import JOBS, Job

log = logging.getLogger("aftercare.worker")

# Modules that declare jobs with @core.jobs.scheduled; importing them registers the jobs.
JOB_MODULES = [
    "core.tickets.jobs",
    "core.sla.sweep",
    "core.monitoring.jobs",
    "core.backups.jobs",
    "core.flags.jobs",
    "core.channels.jobs",
    "core.rollups.jobs",
]

LEADER_LOCK = 7_311_002

JOB_RUNS = Counter("aftercare_job_runs_total", "Job runs by outcome", ["job", "outcome"])
JOB_FAILURES = Counter("aftercare_job_failures_total", "Job runs that raised", ["job"])
JOB_DURATION = Histogram("aftercare_job_duration_seconds", "Job run time", ["job"],
                         buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800))
JOB_LAST_SUCCESS = Gauge("aftercare_job_last_success_timestamp_seconds", "Last successful run", ["job"])
IS_LEADER = Gauge("aftercare_worker_leader", "1 when this worker is the leader")


def load_jobs() -> dict[str, Job]:
    """Import every job module (a module that fails to import is logged, not fatal) and return the jobs."""
    for name in JOB_MODULES:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            log.warning("job module %s not loaded: %s", name, exc)
    return dict(JOBS)


def run_job(job: Job) -> bool:
    """Run one job, recording its outcome and duration; never raises."""
    start = time.perf_counter()
    try:
        summary = job.func()
    except Exception:
        log.exception("job %s failed", job.id)
        JOB_FAILURES.labels(job.id).inc()
        JOB_RUNS.labels(job.id, "failure").inc()
        return False
    finally:
        JOB_DURATION.labels(job.id).observe(time.perf_counter() - start)
    JOB_RUNS.labels(job.id, "success").inc()
    JOB_LAST_SUCCESS.labels(job.id).set_to_current_time()
    if summary:
        log.info("job %s: %s", job.id, summary)
    return True


def try_lead(conn) -> bool:
    """Take the leader lock on conn if free."""
    return bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_LOCK}).scalar())


def main(*, once: bool = False) -> int:
    # force: `python -m core` configured WARNING for commands already; the worker's log is its INFO lines
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    from core.monitoring_hooks import init_error_tracking

    init_error_tracking("worker")
    # Every mapped class before any thread starts: jobs run in APScheduler's threads, and one thread
    # configuring the mappers while another is still importing a models module leaves a relationship
    # pointing at a class not defined yet ("name 'FlagEnvironment' is not defined") for the process's life.
    import core.db.models  # noqa: F401
    from sqlalchemy.orm import configure_mappers

    configure_mappers()
    from core.tickets.rules import RulesError, active_rules

    try:
        active_rules()
    except RulesError as exc:
        log.error("%s", exc)
        return 2
    jobs = load_jobs()
    if once:
        ok = all(run_job(j) for j in jobs.values())
        return 0 if ok else 1

    settings = get_settings()
    from core.releases.heartbeat import ProcessKind, start_process_heartbeat

    # Every worker, standbys too (jobs run on the leader only): a release must see an old standby before contracting.
    start_process_heartbeat(ProcessKind.WORKER)
    start_http_server(settings.worker_metrics_port, addr=settings.worker_metrics_host)
    log.info("metrics on http://%s:%s/metrics; %d jobs: %s", settings.worker_metrics_host,
             settings.worker_metrics_port, len(jobs), ", ".join(sorted(jobs)))

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.is_set():
        try:
            _lead_while_possible(jobs, stop)
        except Exception as exc:  # database gone: wait and try again
            IS_LEADER.set(0)
            log.warning("worker lost the database (%s); retrying in 5 s", str(exc).splitlines()[0])
            stop.wait(5)
    return 0


def _lead_while_possible(jobs: dict[str, Job], stop: threading.Event) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    from core.db import get_engine

    with get_engine().connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        while not try_lead(conn):
            IS_LEADER.set(0)
            if stop.wait(5):
                return
        IS_LEADER.set(1)
        log.info("this worker is the leader")
        scheduler = BackgroundScheduler(timezone=get_settings().business_timezone,
                                        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300})
        for job in jobs.values():
            scheduler.add_job(run_job, job.trigger, args=[job], id=job.id, name=job.id, **job.trigger_args)
        scheduler.start()
        for job in jobs.values():
            if job.run_at_start:
                scheduler.add_job(run_job, "date", args=[job], id=f"{job.id}-start")
        try:
            while not stop.wait(10):
                conn.execute(text("SELECT 1"))  # the lock lives as long as this connection does
        finally:
            scheduler.shutdown(wait=False)
            IS_LEADER.set(0)
            try:  # the connection goes back to the pool: don't let it keep the lock
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LEADER_LOCK})
            except Exception:
                conn.invalidate()
