"""`python -m core run` with DATABASE_URL pointing at nothing: it says which server, and the console starts."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.helpers import free_port, stop_group, wait_http

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_run_with_an_unreachable_database_names_it_and_still_serves_the_console(tmp_path):
    port, metrics = free_port(), free_port()
    env = dict(os.environ, DATABASE_URL="postgresql://nobody@127.0.0.1:9/aftercare", PYTHONUNBUFFERED="1",
               WORKER_METRICS_PORT=str(metrics))
    out = open(tmp_path / "run.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "core", "run", "--port", str(port), "--no-monitoring"],
                            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_http(f"http://127.0.0.1:{port}/_stcore/health", timeout=90)
        deadline = time.monotonic() + 10
        while "console: http://127.0.0.1" not in (tmp_path / "run.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        log = (tmp_path / "run.log").read_text()
        assert "cannot reach PostgreSQL at 127.0.0.1" in log and "starting the console anyway" in log
        assert "Traceback" not in log.split("started app")[0]
        assert proc.poll() is None
    finally:
        stop_group(proc)
        out.close()
