"""Demo traffic serves the product metrics with a daily pattern and incidents; the uptime probes export
probe_success and probe_duration_seconds."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest
import requests
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from core.monitoring import traffic, uptime
from core.monitoring.metrics import product_metrics
from tests.helpers import free_port, wait_http


@pytest.fixture
def demo():
    """Start `demo traffic` in a thread on a free port; yields its base URL; stopped at teardown."""
    port = free_port()
    stop = threading.Event()
    t = threading.Thread(target=traffic.serve, kwargs={"port": port, "stop": stop, "tick_seconds": 0.1,
                                                        "peak_rps": 400}, daemon=True)
    t.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/healthz", timeout=10)
        yield url
    finally:
        stop.set()
        t.join(timeout=5)


def _families(text: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_demo_serves_contract_metrics_and_incidents(demo):
    deadline = time.monotonic() + 30
    while True:        # bounded: the simulator needs a few ticks to run an agent
        fam = _families(requests.get(demo + "/metrics", timeout=5).text)
        ready = all(fam.get(n) and fam[n].samples for n in ("http_request_duration_seconds", "agent_executions", "llm_cost_usd"))
        if ready or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert {"http_request_duration_seconds", "agent_executions", "llm_cost_usd"} <= set(fam)
    labels = {s.labels["status_code"] for s in fam["http_request_duration_seconds"].samples if "status_code" in s.labels}
    assert "200" in labels and set(fam["http_request_duration_seconds"].samples[0].labels) >= {"method", "route", "status_code"}
    assert {s.labels["provider"] for s in fam["llm_cost_usd"].samples} <= {"openai", "anthropic", "local"}

    assert requests.get(demo + "/incident?set=down", timeout=5).status_code == 200
    assert requests.get(demo + "/healthz", timeout=5).status_code == 503
    assert requests.get(demo + "/incident?set=meteor", timeout=5).status_code == 400
    assert requests.get(demo + "/incident?set=none", timeout=5).status_code == 200
    assert requests.get(demo + "/healthz", timeout=5).status_code == 200


def test_error_incident_raises_the_5xx_share_above_the_alert_threshold():
    reg = CollectorRegistry()
    sim = traffic.TrafficSimulator(product_metrics(reg), incident="errors", seed=1, peak_rps=2000)
    noon = datetime(2026, 11, 25, 13, 0, tzinfo=timezone.utc)
    sim.tick(5, at=noon)
    samples = [s for f in text_string_to_metric_families(generate_latest(reg).decode())
               if f.name == "http_request_duration_seconds" for s in f.samples if s.name.endswith("_count")]
    total = sum(s.value for s in samples)
    errors = sum(s.value for s in samples if s.labels["status_code"].startswith("5"))
    assert total > 1000 and errors / total > 0.05


def test_daily_pattern_is_quiet_at_night_and_busy_in_the_afternoon():
    night = traffic.daily_factor(datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc))   # a Wednesday
    afternoon = traffic.daily_factor(datetime(2026, 11, 25, 13, 30, tzinfo=timezone.utc))
    saturday = traffic.daily_factor(datetime(2026, 11, 28, 13, 30, tzinfo=timezone.utc))
    assert night < 0.2 < saturday < afternoon <= 1.0


def test_probes_export_success_and_duration(demo):
    reg = CollectorRegistry()
    metrics = uptime.ProbeMetrics(reg)
    dead = f"http://127.0.0.1:{free_port()}/healthz"
    probes = uptime.parse_probes(f"api={demo}/healthz, {dead}")
    results = uptime.run_probes(probes, metrics=metrics, timeout=3)
    assert [r.success for r in results] == [True, False]
    fam = _families(generate_latest(reg).decode())
    success = {s.labels["probe"]: s.value for s in fam["probe_success"].samples}
    assert success == {"api": 1.0, dead.split("/")[2]: 0.0}
    assert all(s.value >= 0 for s in fam["probe_duration_seconds"].samples)

    requests.get(demo + "/incident?set=down", timeout=5)
    [r] = uptime.run_probes(probes[:1], metrics=metrics, timeout=3)
    assert not r.success and r.detail == "HTTP 503"


@pytest.mark.parametrize("text", ["ftp://x", "api=", "a=http://x,a=http://y"])
def test_bad_probe_urls_are_refused(text):
    with pytest.raises(ValueError):
        uptime.parse_probes(text)
