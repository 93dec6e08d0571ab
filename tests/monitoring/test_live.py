"""Live wiring: Prometheus scrapes the demo product as deploy/prometheus.yml says, and Alertmanager delivers a
warning to Slack with the webhook URL read from var/secrets (as deploy/alertmanager.yml says)."""

from __future__ import annotations

import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone

import requests

from core.monitoring import traffic
from core.monitoring.prom import Prometheus
from tests.helpers import free_port, need_binary, wait_http
from tests.monitoring.conftest import _forget_failures
from tests.monitoring.conftest import DEPLOY, stop_process


def _poll(fn, timeout: float = 15.0, every: float = 0.25):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


def test_prometheus_scrapes_the_demo_product_with_the_deploy_config(tmp_path):
    prom_bin = need_binary("prometheus")
    demo_port, prom_port = free_port(), free_port()
    stop = threading.Event()
    t = threading.Thread(target=traffic.serve, kwargs={"port": demo_port, "stop": stop, "tick_seconds": 0.1,
                                                        "peak_rps": 2000}, daemon=True)
    t.start()
    cfg = (DEPLOY / "prometheus.yml").read_text()
    cfg = (cfg.replace("127.0.0.1:9465", f"127.0.0.1:{demo_port}").replace("127.0.0.1:9464", f"127.0.0.1:{free_port()}")
           .replace("scrape_interval: 15s", "scrape_interval: 1s").replace("- alerts.yml", f"- {DEPLOY / 'alerts.yml'}"))
    (tmp_path / "prometheus.yml").write_text(cfg)
    proc = subprocess.Popen([prom_bin, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'd'}",
                             f"--web.listen-address=127.0.0.1:{prom_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{prom_port}"
        wait_http(url + "/-/ready")
        _forget_failures(url)
        prom = Prometheus(url)
        got = _poll(lambda: prom.instant_query('sum(http_request_duration_seconds_count{job="aftercare-product"})'))
        assert got and got[0].points[0][1] > 0
        up = _poll(lambda: {s.labels["job"]: s.points[0][1] for s in prom.instant_query("up")
                            if s.labels["job"].startswith("aftercare-")}.keys() >= {"aftercare-product", "aftercare-worker"}
                   and {s.labels["job"]: s.points[0][1] for s in prom.instant_query("up")})
        assert up["aftercare-product"] == 1 and up["aftercare-worker"] == 0     # no worker in this test
    finally:
        stop_process(proc)
        stop.set()
        t.join(timeout=5)


def test_alertmanager_sends_warnings_to_slack_with_the_secret_file(tmp_path, capture):
    am_bin = need_binary("prometheus-alertmanager", "alertmanager")
    (tmp_path / "deploy").mkdir()
    (tmp_path / "var" / "secrets").mkdir(parents=True)
    (tmp_path / "var" / "secrets" / "slack_webhook_url").write_text(capture.url + "/services/T000/B000/XXX")
    # the deploy config as is, with the waits shortened for the test
    cfg = (DEPLOY / "alertmanager.yml").read_text().replace("group_wait: 30s", "group_wait: 0s")
    (tmp_path / "deploy" / "alertmanager.yml").write_text(cfg)
    port = free_port()
    proc = subprocess.Popen([am_bin, f"--config.file={tmp_path / 'deploy' / 'alertmanager.yml'}",
                             f"--storage.path={tmp_path / 'am'}", f"--web.listen-address=127.0.0.1:{port}",
                             "--cluster.listen-address="], stdout=open(tmp_path / "am.log", "w"), stderr=subprocess.STDOUT,
                            cwd=tmp_path)   # the secret paths are relative to the working directory
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/-/ready")
        now = datetime.now(timezone.utc)
        requests.post(url + "/api/v2/alerts", timeout=3, json=[{
            "labels": {"alertname": "SLABreachesRising", "severity": "warning", "service": "support"},
            "annotations": {"summary": "7 SLA breaches in the last hour", "runbook": "docs/runbooks/monitoring.md"},
            "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat()}]).raise_for_status()
        assert _poll(lambda: capture.requests, timeout=20), (tmp_path / "am.log").read_text()[-3000:]
        [req] = capture.requests[:1]
        assert req["path"] == "/services/T000/B000/XXX"
        assert req["json"]["channel"] == "#ops-alerts"
        assert "SLABreachesRising" in req["json"]["attachments"][0]["title"]
        assert "7 SLA breaches" in req["json"]["attachments"][0]["text"]
    finally:
        stop_process(proc)
