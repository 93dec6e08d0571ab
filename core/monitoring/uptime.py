"""Uptime probes run by the worker: probe_success and probe_duration_seconds for each configured URL."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlparse

import requests
from prometheus_client import REGISTRY, CollectorRegistry, Gauge

from core.config import get_settings

log = logging.getLogger(__name__)

PROBE_LABELS = ["probe", "url"]


@dataclass(frozen=True)
class Probe:
    name: str
    url: str


@dataclass(frozen=True)
class ProbeResult:
    probe: Probe
    success: bool
    duration: float
    detail: str


class ProbeMetrics:
    """The probe gauges on one registry (the worker uses the default REGISTRY)."""

    def __init__(self, registry: CollectorRegistry = REGISTRY):
        self.success = Gauge("probe_success", "1 when the last probe of the URL succeeded", PROBE_LABELS,
                             registry=registry)
        self.duration = Gauge("probe_duration_seconds", "Duration of the last probe of the URL", PROBE_LABELS,
                              registry=registry)

    def record(self, result: ProbeResult) -> None:
        self.success.labels(result.probe.name, result.probe.url).set(1 if result.success else 0)
        self.duration.labels(result.probe.name, result.probe.url).set(result.duration)


_default_metrics: ProbeMetrics | None = None


def default_metrics() -> ProbeMetrics:
    """The worker's probe gauges on the default registry (created once)."""
    global _default_metrics
    if _default_metrics is None:
        _default_metrics = ProbeMetrics(REGISTRY)
    return _default_metrics


def parse_probes(text: str) -> list[Probe]:
    """Parse PROBE_URLS: comma-separated `name=url` or bare URLs (named host:port); bad entries raise ValueError."""
    probes: list[Probe] = []
    for raw in (part.strip() for part in text.split(",")):
        if not raw:
            continue
        name, _, url = raw.partition("=") if "=" in raw.split("://", 1)[0] else ("", "", raw)
        url = url.strip()
        u = urlparse(url)
        if u.scheme not in ("http", "https") or not u.netloc:
            raise ValueError(f"probe URL must be http(s)://host[:port]/path, not {url!r}")
        probes.append(Probe(name=(name.strip() or u.netloc), url=url))
    names = [p.name for p in probes]
    if len(set(names)) != len(names):
        raise ValueError("probe names must be unique")
    return probes


def configured_probes() -> list[Probe]:
    """PROBE_URLS, or in development the console and the demo product (as `make run` starts them)."""
    settings = get_settings()
    if settings.probe_urls.strip():
        return parse_probes(settings.probe_urls)
    if settings.environment == "development":
        return [Probe("console", settings.app_url.rstrip("/") + "/_stcore/health"),
                Probe("api", "http://127.0.0.1:9465/healthz")]
    return []


def probe(p: Probe, *, timeout: float = 3.0) -> ProbeResult:
    """GET the URL once: success is a 2xx/3xx answer within timeout."""
    start = time.perf_counter()
    try:
        r = requests.get(p.url, timeout=timeout, allow_redirects=False)
        ok = 200 <= r.status_code < 400
        detail = f"HTTP {r.status_code}"
    except requests.RequestException as exc:
        ok = False
        detail = type(exc).__name__
    return ProbeResult(p, ok, time.perf_counter() - start, detail)


def run_probes(probes: list[Probe], *, metrics: ProbeMetrics | None = None, timeout: float = 3.0) -> list[ProbeResult]:
    """Probe every URL in parallel and export the results."""
    metrics = metrics or default_metrics()
    if not probes:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(probes))) as pool:
        results = list(pool.map(lambda p: probe(p, timeout=timeout), probes))
    for r in results:
        metrics.record(r)
    return results
