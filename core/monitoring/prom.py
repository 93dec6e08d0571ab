"""Prometheus range queries (prometheus-api-client) with short timeouts and a typed "down since" error."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone

import requests
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect
from urllib3.util.retry import Retry

from core.config import get_settings
from core.monitoring.errors import PrometheusUnavailable, QueryError, mark_down, mark_up, recent_failure, short_reason

# Prometheus refuses more than 11,000 points per series; stay well under it.
MAX_POINTS = 1500
DEFAULT_TIMEOUT = 3.0


@dataclass
class Series:
    """One series of a range query: its labels and (timestamp, value) points (NaN dropped)."""

    labels: dict[str, str]
    points: list[tuple[datetime, float]] = field(default_factory=list)

    def label(self, *names: str) -> str:
        """A readable name from the given labels (or all labels)."""
        keys = names or tuple(k for k in sorted(self.labels) if k != "__name__")
        return ", ".join(f"{self.labels.get(k, '')}" for k in keys) or "value"


def step_for(start: datetime, end: datetime, *, min_step: float = 15.0, max_points: int = MAX_POINTS) -> float:
    """A query step (seconds) giving at most max_points points between start and end."""
    span = max((end - start).total_seconds(), 1.0)
    return float(max(min_step, math.ceil(span / max_points)))


class Prometheus:
    """A Prometheus HTTP API client whose every call fails fast with PrometheusUnavailable."""

    def __init__(self, url: str | None = None, *, timeout: float | None = None):
        settings = get_settings()
        self.url = (url or settings.prometheus_url).rstrip("/")
        self.timeout = timeout if timeout is not None else min(settings.http_timeout_seconds, DEFAULT_TIMEOUT)
        # No retries: a dead server must be reported within one timeout, not after backoffs.
        self._client = PrometheusConnect(url=self.url, disable_ssl=True, retry=Retry(total=0), timeout=self.timeout)

    def _call(self, fn, *args, **kwargs):
        recent = recent_failure(self.url)
        if recent:
            raise PrometheusUnavailable(url=self.url, since=recent[0], reason=recent[1])
        try:
            result = fn(*args, **kwargs)
        except PrometheusApiClientException as exc:
            mark_up(self.url)
            raise QueryError(_api_error(str(exc))) from exc
        except (requests.RequestException, ValueError) as exc:
            reason = short_reason(exc)
            raise PrometheusUnavailable(url=self.url, since=mark_down(self.url, reason), reason=reason) from exc
        mark_up(self.url)
        return result

    def range_query(self, query: str, *, start: datetime, end: datetime, step: float | None = None) -> list[Series]:
        """Evaluate a PromQL query over [start, end]; aggregation belongs in the PromQL."""
        if end <= start:
            raise QueryError("the end of the range must be after its start")
        step = step or step_for(start, end)
        raw = self._call(self._client.custom_query_range, query=query, start_time=start, end_time=end,
                         step=f"{step:g}", timeout=self.timeout)
        return [_series(item) for item in raw]

    def instant_query(self, query: str, *, at: datetime | None = None) -> list[Series]:
        """Evaluate a PromQL query at one instant (now by default)."""
        params = {"time": f"{(at or datetime.now(timezone.utc)).timestamp():.3f}"}
        raw = self._call(self._client.custom_query, query=query, params=params, timeout=self.timeout)
        out = []
        for item in raw:
            ts, value = item["value"]
            out.append(Series(labels=item["metric"], points=_points([[ts, value]])))
        return out

    def rules(self) -> list[dict]:
        """Alerting rules with their state, from /api/v1/rules (one dict per rule)."""
        data = self._get("/api/v1/rules", params={"type": "alert"})
        rules = []
        for group in data.get("groups", []):
            for rule in group.get("rules", []):
                rules.append({
                    "group": group.get("name"),
                    "name": rule.get("name"),
                    "state": rule.get("state", "inactive"),
                    "severity": rule.get("labels", {}).get("severity", ""),
                    "for": _duration_text(rule.get("duration", 0)),
                    "query": rule.get("query", ""),
                    "summary": rule.get("annotations", {}).get("summary", ""),
                    "runbook": rule.get("annotations", {}).get("runbook", ""),
                    "active": len(rule.get("alerts", [])),
                    "health": rule.get("health", ""),
                    "last_error": rule.get("lastError", ""),
                })
        return rules

    def ready(self) -> bool:
        """True when Prometheus answers /-/ready; raises PrometheusUnavailable otherwise."""
        self._call(lambda: requests.get(f"{self.url}/-/ready", timeout=self.timeout).raise_for_status())
        return True

    def _get(self, path: str, params: dict | None = None) -> dict:
        def fetch():
            r = requests.get(f"{self.url}{path}", params=params, timeout=self.timeout)
            if r.status_code >= 400:
                raise PrometheusApiClientException(f"HTTP Status Code {r.status_code} ({r.content!r})")
            return r.json()["data"]

        return self._call(fetch)


def _api_error(text: str) -> str:
    import json
    import re

    m = re.search(r"\(b'(.*)'\)$", text, re.S)
    if m:
        try:
            return "Prometheus refused the query: " + json.loads(m.group(1).encode().decode("unicode_escape"))["error"]
        except (ValueError, KeyError):
            pass
    return "Prometheus refused the query: " + text[:300]


def _points(values) -> list[tuple[datetime, float]]:
    out = []
    for ts, value in values:
        v = float(value)
        if math.isnan(v):
            continue
        out.append((datetime.fromtimestamp(float(ts), tz=timezone.utc), v))
    return out


def _series(item: dict) -> Series:
    return Series(labels=item.get("metric", {}), points=_points(item.get("values", [])))


def _duration_text(seconds: float) -> str:
    """A rule's `for` as Prometheus writes it: "0s", "30s", "5m", "1h30m"."""
    seconds = int(seconds or 0)
    if not seconds:
        return "0s"
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return "".join(f"{v}{unit}" for v, unit in ((h, "h"), (m, "m"), (s, "s")) if v)
