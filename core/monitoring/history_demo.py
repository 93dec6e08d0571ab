"""Demo history for a fresh Prometheus: OpenMetrics for `promtool tsdb create-blocks-from openmetrics`.

Writes the product metrics (with the daily pattern of the live demo), a month of uptime probes and the
ALERTS series of two past incidents, so the charts, the uptime table, UnusualCostSpike's 24-hour baseline
and the alert history have content the first time `make run` starts.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from core.monitoring.metrics import LATENCY_BUCKETS
from core.monitoring.traffic import AGENTS, PEAK_RPS, PROVIDERS, ROUTES, daily_factor

STEP = 60
PROBE_STEP = 300
PROBE_DAYS = 30


def _erf_cdf(x: float, mu: float, sigma: float) -> float:
    return 0.5 * (1 + math.erf((math.log(x) - mu) / (sigma * math.sqrt(2))))


def write_history(path: str | Path, *, hours: float = 26.0, seed: int = 7, end: datetime | None = None,
                  peak_rps: float = PEAK_RPS) -> int:
    """Write `hours` of product history ending at `end` (default: now) to path; return the number of samples."""
    if hours <= 0 or hours > 24 * 60:
        raise ValueError("hours must be between 0 and 1440")
    rng = np.random.default_rng(seed)
    end_ts = int((end or datetime.now(timezone.utc)).timestamp()) // STEP * STEP - STEP
    start_ts = end_ts - int(hours * 3600) // STEP * STEP
    times = list(range(start_ts, end_ts + 1, STEP))
    # Past incidents: 5xx errors 5 h ago for 25 min; the api probe down 20 h ago for 10 min.
    err_from, err_to = end_ts - 5 * 3600, end_ts - 5 * 3600 + 25 * 60
    down_from, down_to = end_ts - 20 * 3600, end_ts - 20 * 3600 + 10 * 60

    statuses = {}  # (method, route, status) -> (counts per step, latency parameters)
    agent_counts: dict[tuple[str, str], np.ndarray] = {}
    cost: dict[str, np.ndarray] = {p: np.zeros(len(times)) for p in PROVIDERS}
    errors = {("unhandled_exception", "error"): np.zeros(len(times))}
    shares = np.array([r[2] for r in ROUTES])
    shares = shares / shares.sum()
    for i, t in enumerate(times):
        at = datetime.fromtimestamp(t, timezone.utc)
        down = down_from <= t < down_to
        p5xx = 0.12 if err_from <= t < err_to else 0.0005
        for (method, route, _, median), share in zip(ROUTES, shares):
            n = 0 if down else int(rng.poisson(peak_rps * daily_factor(at) * share * STEP))
            bad = int(rng.binomial(n, p5xx))
            ok = n - bad
            for status, count in (("200" if method == "GET" else "201", ok), ("500", bad)):
                statuses.setdefault((method, route, status), (np.zeros(len(times)), median))[0][i] = count
            errors[("unhandled_exception", "error")][i] += bad
            if route == "/api/agents/run":
                runs = n
                fails = bad + int(rng.binomial(ok, 0.01))
                for a_i, agent in enumerate(AGENTS):
                    part = runs // len(AGENTS) + (1 if a_i < runs % len(AGENTS) else 0)
                    part_fail = fails // len(AGENTS)
                    agent_counts.setdefault((agent, "success"), np.zeros(len(times)))[i] = max(0, part - part_fail)
                    agent_counts.setdefault((agent, "failed"), np.zeros(len(times)))[i] = part_fail
                for provider, (pshare, mean) in PROVIDERS.items():
                    cost[provider][i] = float(rng.gamma(max(runs * pshare, 1e-9), mean)) if runs else 0.0

    out: list[str] = []
    samples = 0

    def family(name: str, kind: str):
        out.append(f"# TYPE {name} {kind}")

    family("http_request_duration_seconds", "histogram")
    for (method, route, status), (counts, median) in statuses.items():
        mu = math.log(median)
        cum = np.cumsum(counts)
        base = f'method="{method}",route="{route}",status_code="{status}"'
        for le in (*LATENCY_BUCKETS, math.inf):
            frac = 1.0 if le == math.inf else _erf_cdf(le, mu, 0.5)
            le_s = "+Inf" if le == math.inf else f"{le:g}"
            out += [f'http_request_duration_seconds_bucket{{{base},le="{le_s}"}} {math.floor(c * frac)} {t}'
                    for t, c in zip(times, cum)]
        out += [f"http_request_duration_seconds_count{{{base}}} {int(c)} {t}" for t, c in zip(times, cum)]
        mean_latency = median * math.exp(0.125)
        out += [f"http_request_duration_seconds_sum{{{base}}} {c * mean_latency:.3f} {t}" for t, c in zip(times, cum)]
        samples += len(times) * (len(LATENCY_BUCKETS) + 3)

    family("agent_executions", "counter")
    for (agent, status), counts in agent_counts.items():
        out += [f'agent_executions_total{{agent_id="{agent}",status="{status}"}} {int(c)} {t}'
                for t, c in zip(times, np.cumsum(counts))]
        samples += len(times)
    family("errors", "counter")
    for (etype, sev), counts in errors.items():
        out += [f'errors_total{{type="{etype}",severity="{sev}"}} {int(c)} {t}' for t, c in zip(times, np.cumsum(counts))]
        samples += len(times)
    family("llm_cost_usd", "counter")
    for provider, values in cost.items():
        out += [f'llm_cost_usd_total{{provider="{provider}"}} {c:.4f} {t}' for t, c in zip(times, np.cumsum(values))]
        samples += len(times)

    family("probe_success", "gauge")
    probe_times = range(end_ts - PROBE_DAYS * 86400, end_ts + 1, PROBE_STEP)
    for probe, url in (("api", "http://127.0.0.1:9465/healthz"), ("console", "http://127.0.0.1:8501/_stcore/health")):
        for t in probe_times:
            ok = not (probe == "api" and down_from <= t < down_to)
            out.append(f'probe_success{{probe="{probe}",url="{url}"}} {1 if ok else 0} {t}')
            samples += 1

    family("ALERTS", "gauge")
    for name, labels, a, b in (("HighErrorRate", 'service="api",severity="critical"', err_from + 360, err_to + 60),
                               ("ServiceDown", 'probe="api",service="api",severity="critical"', down_from + 120, down_to)):
        for t in range(a, b + 1, 15):
            out.append(f'ALERTS{{alertname="{name}",alertstate="firing",{labels}}} 1 {t}')
            samples += 1
    out.append("# EOF")
    Path(path).write_text("\n".join(out) + "\n")
    return samples
