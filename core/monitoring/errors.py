"""Typed errors for the monitoring backends, remembering since when each backend has been unreachable."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

_down_since: dict[str, datetime] = {}
_last_failure: dict[str, tuple[float, str]] = {}
_lock = threading.Lock()

# After a failure, calls to the same backend fail at once for this long instead of waiting for another
# timeout, so a page with several charts reports an outage in one timeout, not one per chart.
FAIL_FAST_SECONDS = 5.0


class MonitoringUnavailable(Exception):
    """A monitoring backend (Prometheus or Alertmanager) did not answer in time."""

    backend = "monitoring backend"

    def __init__(self, *, url: str, since: datetime, reason: str):
        self.url = url
        self.since = since
        self.reason = reason
        super().__init__(f"{self.backend} at {url} is unreachable since {since:%Y-%m-%d %H:%M:%S} UTC ({reason})")


class PrometheusUnavailable(MonitoringUnavailable):
    backend = "Prometheus"


class AlertmanagerUnavailable(MonitoringUnavailable):
    backend = "Alertmanager"


class QueryError(Exception):
    """The backend answered but refused the request (bad PromQL, bad silence, ...): a user-facing message."""


def mark_down(key: str, reason: str = "", now: datetime | None = None) -> datetime:
    """Remember the first failure of key (a backend URL) and return since when it is down."""
    with _lock:
        _last_failure[key] = (time.monotonic(), reason)
        return _down_since.setdefault(key, now or datetime.now(timezone.utc))


def mark_up(key: str) -> None:
    """Forget a backend's failure after it answered."""
    with _lock:
        _down_since.pop(key, None)
        _last_failure.pop(key, None)


def recent_failure(key: str) -> tuple[datetime, str] | None:
    """(down since, reason) when key failed less than FAIL_FAST_SECONDS ago, else None."""
    with _lock:
        last = _last_failure.get(key)
        if last is None or time.monotonic() - last[0] > FAIL_FAST_SECONDS:
            return None
        return _down_since[key], last[1]


def down_since(key: str) -> datetime | None:
    """When key started failing, or None when it answered last time."""
    with _lock:
        return _down_since.get(key)


def short_reason(exc: BaseException) -> str:
    """A one-line reason from a requests exception (no stack of nested wrappers)."""
    import requests

    text = str(exc)
    if isinstance(exc, requests.Timeout) or "timed out" in text.lower():
        return "timed out"
    if "refused" in text.lower():
        return "connection refused"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
