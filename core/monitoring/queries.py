"""The monitoring page's PromQL: every chart is one range query, aggregated by Prometheus, not in Python."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.monitoring.prom import Prometheus, Series, step_for


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    unit: str
    query: str          # {w} is replaced by the rate window in seconds
    legend: tuple[str, ...]


def uptime_query(window: int | str, by: str = "") -> str:
    """The share of probe results in the window that succeeded (per `by` label, or over all probes). Every
    sample weighs the same, so a series that only began minutes ago (new labels after a restart) does not
    count as much as a month of them. `window` may be "{w}" to leave a template."""
    agg = f"sum by ({by})" if by else "sum"
    return f"{agg} (sum_over_time(probe_success[{window}s])) / {agg} (count_over_time(probe_success[{window}s]))"


UPTIME_BY_PROBE = uptime_query("{w}", by="probe")

PANELS: tuple[Panel, ...] = (
    Panel("request_rate", "Request rate", "req/s",
          "sum by (route) (rate(http_request_duration_seconds_count[{w}s]))", ("route",)),
    Panel("error_rate", "Error rate (5xx share)", "ratio",
          'sum(rate(http_request_duration_seconds_count{{status_code=~"5.."}}[{w}s]))'
          " / sum(rate(http_request_duration_seconds_count[{w}s]))", ()),
    Panel("latency", "Latency p50 / p95 / p99", "s",
          'label_replace(histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket[{w}s]))), "quantile", "p50", "", "")'
          ' or label_replace(histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[{w}s]))), "quantile", "p95", "", "")'
          ' or label_replace(histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[{w}s]))), "quantile", "p99", "", "")',
          ("quantile",)),
    Panel("agent_executions", "Agent executions by status", "per min",
          "sum by (status) (rate(agent_executions_total[{w}s])) * 60", ("status",)),
    Panel("llm_cost", "LLM cost per provider", "$/h",
          "sum by (provider) (rate(llm_cost_usd_total[{w}s])) * 3600", ("provider",)),
    Panel("probe_success", "Uptime probes (success ratio)", "ratio", UPTIME_BY_PROBE, ("probe",)),
)

UPTIME_WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}


def rate_window(step: float) -> int:
    """A rate() window covering at least four scrapes and at least one step."""
    return int(max(60, 2 * step))


def panel_series(*, prom: Prometheus, panel: Panel, start: datetime, end: datetime) -> list[Series]:
    """One panel's series over [start, end]."""
    step = step_for(start, end, max_points=300)
    return prom.range_query(panel.query.format(w=rate_window(step)), start=start, end=end, step=step)


def uptime_by_probe(*, prom: Prometheus, at: datetime) -> dict[str, dict[str, float]]:
    """{probe: {"24h": ratio, "7d": ratio, "30d": ratio}}: the share of probe results in the window that succeeded, at `at`."""
    out: dict[str, dict[str, float]] = {}
    for name, window in UPTIME_WINDOWS.items():
        query = UPTIME_BY_PROBE.format(w=int(window.total_seconds()))
        for s in prom.instant_query(query, at=at):
            if s.points:
                out.setdefault(s.labels.get("probe", "?"), {})[name] = s.points[0][1]
    return out
