"""Fixtures for monitoring tests: the real Prometheus on backfilled history, the real Alertmanager,
capturing HTTP servers (PagerDuty, Slack) and an SMTP server; every process is stopped at teardown."""

from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers import free_port, need_binary, wait_http

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture
def settings_env(monkeypatch):
    """Set environment settings for the test: settings_env(NAME=value, ...); the settings cache is cleared."""
    from core.config import get_settings

    def _set(**values):
        for k, v in values.items():
            if v is None:
                monkeypatch.delenv(k, raising=False)
            else:
                monkeypatch.setenv(k, str(v))
        get_settings.cache_clear()

    yield _set
    get_settings.cache_clear()


def start_prometheus(tmp_path: Path, openmetrics: str) -> tuple[str, subprocess.Popen]:
    """Backfill openmetrics into a fresh TSDB with promtool and start the real Prometheus on it
    (deploy/alerts.yml loaded); returns (url, process)."""
    prom_bin = need_binary("prometheus")
    promtool = need_binary("promtool")
    data = tmp_path / "tsdb"
    data.mkdir()
    src = tmp_path / "history.om"
    src.write_text(openmetrics)
    subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=24h",
                    str(src), str(data)], check=True, capture_output=True, timeout=120)
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(f"global:\n  evaluation_interval: 1h\nrule_files:\n  - {DEPLOY / 'alerts.yml'}\n")
    log = open(tmp_path / "prometheus.log", "w")
    proc = subprocess.Popen(
        [prom_bin, f"--config.file={config}", f"--storage.tsdb.path={data}", "--storage.tsdb.retention.time=90d",
         f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/-/ready")
    except BaseException:
        stop_process(proc)
        raise
    _forget_failures(url)
    return url, proc


@pytest.fixture
def alertmanager_url(tmp_path):
    """A real Alertmanager running deploy/alertmanager.yml (clustering off), stopped at teardown."""
    am_bin = need_binary("prometheus-alertmanager", "alertmanager")
    port = free_port()
    data = tmp_path / "am"
    data.mkdir()
    log = open(tmp_path / "alertmanager.log", "w")
    proc = subprocess.Popen([am_bin, f"--config.file={DEPLOY / 'alertmanager.yml'}", f"--storage.path={data}",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/-/ready")
        _forget_failures(url)
        yield url
    finally:
        stop_process(proc)


def _forget_failures(url: str) -> None:
    """A backend just started on a port that an earlier test may have used as a dead address: forget that
    port's recent failure, or the console's fail-fast (errors.FAIL_FAST_SECONDS) reports it down."""
    from core.monitoring.errors import mark_up

    mark_up(url)


class Capture:
    """A local HTTP server recording JSON posts; `responses` is a list of status codes to answer in turn."""

    def __init__(self):
        self.requests: list[dict] = []
        self.responses: list[int] = []
        self.default = 200
        self.delay = threading.Event()
        self.slow = False
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if capture.slow:
                    capture.delay.wait(10)
                try:
                    payload = json.loads(body) if body else None
                except ValueError:
                    payload = body.decode(errors="replace")
                capture.requests.append({"path": self.path, "method": self.command, "json": payload})
                code = capture.responses.pop(0) if capture.responses else capture.default
                out = b'{"status":"success","message":"Event processed"}' if code < 300 else b'{"error":"nope"}'
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                except OSError:
                    pass  # the client gave up (timeout tests)

            do_POST = do_GET = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.delay.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def capture():
    """A capturing HTTP server (PagerDuty / Slack stand-in)."""
    c = Capture()
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def smtp_server():
    """An aiosmtpd server on loopback; yields (port, messages)."""
    from aiosmtpd.controller import Controller

    messages = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
            messages.append(envelope)
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, messages
    finally:
        controller.stop()
