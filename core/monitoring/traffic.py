"""`python -m core demo traffic`: simulated product traffic with a daily pattern, served as Prometheus metrics.

It serves /metrics (the product metrics), /healthz (probed by the worker) and /incident?set=KIND on
127.0.0.1:9465, so `make run` shows live charts, and an injected incident raises real alerts:
errors (12% 5xx -> HighErrorRate), latency (p95 ~ 8 s -> SlowResponseTime), cost (8x LLM spend ->
UnusualCostSpike once a day of baseline exists) and down (/healthz 503, no traffic -> ServiceDown).
"""

from __future__ import annotations

import argparse
import logging
import math
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import numpy as np
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from core.monitoring.metrics import ProductMetrics, product_metrics

log = logging.getLogger(__name__)

DEFAULT_PORT = 9465
INCIDENTS = ("errors", "latency", "cost", "down")

# (method, route, share of requests, median latency in seconds)
ROUTES = (
    ("GET", "/api/agents", 0.35, 0.08),
    ("POST", "/api/agents/run", 0.25, 0.9),
    ("GET", "/api/tickets", 0.2, 0.06),
    ("POST", "/api/webhooks", 0.15, 0.04),
    ("GET", "/api/usage", 0.05, 0.15),
)
AGENTS = ("triage-bot", "billing-assistant", "onboarding-guide", "sales-qualifier")
# provider -> (share of executions, mean dollars per execution)
PROVIDERS = {"openai": (0.6, 0.004), "anthropic": (0.3, 0.006), "local": (0.1, 0.0002)}
PEAK_RPS = 25.0


def daily_factor(at: datetime, tz: str = "Europe/Madrid") -> float:
    """Traffic relative to the weekday afternoon peak (1.0): quiet nights, a morning ramp, lighter weekends."""
    local = at.astimezone(ZoneInfo(tz))
    hour = local.hour + local.minute / 60
    factor = 0.08 + 0.92 * math.exp(-(((hour - 14.5) / 4.5) ** 2))
    if local.weekday() >= 5:
        factor *= 0.45
    return factor


class TrafficSimulator:
    """Generates requests, agent executions, errors and LLM cost into a ProductMetrics."""

    def __init__(self, metrics: ProductMetrics, *, incident: str | None = None, seed: int = 7,
                 peak_rps: float = PEAK_RPS, tz: str = "Europe/Madrid"):
        self.metrics = metrics
        self.incident = incident
        self.rng = np.random.default_rng(seed)
        self.peak_rps = peak_rps
        self.tz = tz
        self.lock = threading.Lock()

    def set_incident(self, incident: str | None) -> None:
        if incident not in (None, *INCIDENTS):
            raise ValueError(f"incident must be one of {', '.join(INCIDENTS)} or none")
        with self.lock:
            self.incident = incident

    @property
    def healthy(self) -> bool:
        return self.incident != "down"

    def tick(self, seconds: float, at: datetime | None = None) -> int:
        """Simulate `seconds` of traffic ending at `at`; return the number of requests."""
        at = at or datetime.now(timezone.utc)
        with self.lock:
            incident = self.incident
        m, rng = self.metrics, self.rng
        if incident == "down":
            m.errors.labels("service_unavailable", "critical").inc()
            return 0
        n = int(rng.poisson(self.peak_rps * daily_factor(at, self.tz) * seconds))
        shares = np.array([r[2] for r in ROUTES])
        route_idx = rng.choice(len(ROUTES), size=n, p=shares / shares.sum())
        p5xx = 0.12 if incident == "errors" else 0.0005
        slow = 9.0 if incident == "latency" else 1.0
        for i in route_idx:
            method, route, _, median = ROUTES[i]
            latency = float(rng.lognormal(math.log(median * slow), 0.5))
            u = rng.random()
            if u < p5xx:
                status = "503" if rng.random() < 0.3 else "500"
                m.errors.labels("upstream_timeout" if status == "503" else "unhandled_exception", "error").inc()
            elif u < p5xx + 0.02:
                status = "404" if method == "GET" else "422"
            else:
                status = "200" if method == "GET" else "201"
            m.http_request_duration.labels(method, route, status).observe(latency)
            if route == "/api/agents/run":
                self._agent_execution(status, incident)
        return n

    def _agent_execution(self, http_status: str, incident: str | None) -> None:
        rng, m = self.rng, self.metrics
        agent = AGENTS[int(rng.integers(len(AGENTS)))]
        if http_status.startswith("5"):
            status = "failed"
        else:
            u = rng.random()
            status = "timeout" if u < (0.3 if incident == "latency" else 0.005) else ("failed" if u > 0.99 else "success")
        m.agent_executions.labels(agent, status).inc()
        names = list(PROVIDERS)
        shares = np.array([PROVIDERS[p][0] for p in names])
        provider = names[int(rng.choice(len(names), p=shares))]
        cost = float(rng.exponential(PROVIDERS[provider][1])) * (8.0 if incident == "cost" else 1.0)
        m.llm_cost_usd.labels(provider).inc(cost)


def _handler(sim: TrafficSimulator, registry: CollectorRegistry):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server API)
            url = urlparse(self.path)
            if url.path == "/metrics":
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif url.path == "/healthz":
                ok = sim.healthy
                self._send(200 if ok else 503, b"ok\n" if ok else b"down (demo incident)\n")
            elif url.path == "/incident":
                value = parse_qs(url.query).get("set", [""])[0]
                try:
                    sim.set_incident(None if value in ("", "none") else value)
                except ValueError as exc:
                    self._send(400, f"{exc}\n".encode())
                    return
                self._send(200, f"incident: {sim.incident or 'none'}\n".encode())
            else:
                self._send(404, b"not found\n")

        def _send(self, code: int, body: bytes, ctype: str = "text/plain; charset=utf-8"):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


def serve(*, host: str = "127.0.0.1", port: int = DEFAULT_PORT, incident: str | None = None, seed: int = 7,
          peak_rps: float = PEAK_RPS, tick_seconds: float = 1.0, stop: threading.Event | None = None,
          duration: float | None = None) -> None:
    """Serve the simulated product until stop is set, duration passes or the process is interrupted."""
    registry = CollectorRegistry()
    sim = TrafficSimulator(product_metrics(registry), incident=incident, seed=seed, peak_rps=peak_rps)
    server = ThreadingHTTPServer((host, port), _handler(sim, registry))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    stop = stop or threading.Event()
    deadline = time.monotonic() + duration if duration else None
    print(f"demo traffic on http://{host}:{port}/metrics (incident: {incident or 'none'}); "
          f"switch with http://{host}:{port}/incident?set=errors|latency|cost|down|none", flush=True)
    last = time.monotonic()
    try:
        while not stop.wait(tick_seconds):
            now = time.monotonic()
            sim.tick(now - last)
            last = now
            if deadline and now >= deadline:
                break
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()


def register_demo(demo_subparsers) -> None:
    """Add `demo traffic` to `python -m core demo`."""
    p = demo_subparsers.add_parser("traffic", help="serve simulated product metrics (optionally with an incident)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--incident", choices=INCIDENTS, help="inject an incident from the start")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--peak-rps", type=float, default=PEAK_RPS, help="requests per second at the daily peak")
    p.add_argument("--duration", type=float, help="stop after this many seconds (default: run until interrupted)")
    p.add_argument("--history", metavar="FILE",
                   help="instead of serving, write FILE: OpenMetrics history for `promtool tsdb create-blocks-from openmetrics`")
    p.add_argument("--hours", type=float, default=26.0, help="hours of history for --history (default 26)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from core.cli import CLIError

    if args.history:
        from core.monitoring.history_demo import write_history

        n = write_history(args.history, hours=args.hours, seed=args.seed)
        print(f"wrote {n} samples to {args.history}")
        return 0
    if args.peak_rps <= 0:
        raise CLIError("--peak-rps must be positive")
    try:
        serve(host=args.host, port=args.port, incident=args.incident, seed=args.seed, peak_rps=args.peak_rps,
              duration=args.duration)
    except OSError as exc:
        raise CLIError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from exc
    return 0
