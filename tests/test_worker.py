"""The worker: one leader by advisory lock, job outcomes counted, /metrics served."""

import subprocess
import sys
import time

from prometheus_client import REGISTRY

from core import worker
from core.db import get_engine
from core.jobs import Job
from tests.helpers import free_port, wait_http


def test_only_one_of_two_workers_leads_until_it_goes_away(db_url):
    engine = get_engine(db_url)
    a = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    b = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        assert worker.try_lead(a) is True
        assert worker.try_lead(b) is False
        a.invalidate()  # the leader's connection ends (process gone): the lock is released
        a.close()
        deadline = time.monotonic() + 10  # the server releases the lock when the old backend has exited
        while not worker.try_lead(b) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert worker.try_lead(b) is True
    finally:
        b.close()


def test_a_failing_job_is_counted_and_does_not_raise():
    def boom():
        raise RuntimeError("disk full")

    before = REGISTRY.get_sample_value("aftercare_job_failures_total", {"job": "boom"}) or 0
    assert worker.run_job(Job("boom", boom, "interval", {"seconds": 1})) is False
    assert REGISTRY.get_sample_value("aftercare_job_failures_total", {"job": "boom"}) == before + 1
    assert worker.run_job(Job("fine", lambda: "ok", "interval", {"seconds": 1})) is True
    assert REGISTRY.get_sample_value("aftercare_job_runs_total", {"job": "fine", "outcome": "success"}) >= 1


def test_every_domain_job_module_loads():
    jobs = worker.load_jobs()
    assert {"send_mail", "open_tickets_gauge"} <= set(jobs)


def test_worker_process_serves_metrics_and_stops_on_sigterm(db_url):
    import os
    import signal

    port = free_port()
    env = dict(os.environ, DATABASE_URL=db_url, WORKER_METRICS_PORT=str(port))
    proc = subprocess.Popen([sys.executable, "-m", "core", "worker"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/metrics", timeout=30)
        import requests

        body = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=3).text
        assert "aftercare_worker_leader" in body
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
