"""Monitoring KPIs for the overview: uptime, error rate and alert accuracy, each None with a reason when unknown."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from core.monitoring import triage
from core.monitoring.errors import MonitoringUnavailable, QueryError
from core.monitoring.prom import Prometheus
from core.monitoring.queries import uptime_query

TARGETS = {"uptime": 0.999, "error_rate": 0.001, "alert_accuracy": 0.95}

UPTIME_QUERY = uptime_query("{w}")  # all probes together
ERROR_RATE_QUERY = ('sum(increase(http_request_duration_seconds_count{{status_code=~"5.."}}[{w}s]))'
                    ' / sum(increase(http_request_duration_seconds_count[{w}s]))')


def monitoring_kpis(*, session: Session, start: datetime, end: datetime, prom: Prometheus | None = None) -> dict:
    """Uptime (all probes), 5xx error rate and alert accuracy over [start, end]; `_reasons` says why one is None."""
    window = max(int((end - start).total_seconds()), 60)
    out: dict = {"uptime": None, "error_rate": None, "alert_accuracy": None, "_reasons": {}}
    prom = prom or Prometheus()
    unavailable: str | None = None
    for key, query, empty in (("uptime", UPTIME_QUERY, "no uptime probe reported in this period"),
                              ("error_rate", ERROR_RATE_QUERY, "no requests were recorded in this period")):
        if unavailable:
            out["_reasons"][key] = unavailable
            continue
        try:
            series = prom.instant_query(query.format(w=window), at=end)
        except MonitoringUnavailable as exc:
            unavailable = str(exc)       # one timeout is enough: do not wait twice
            out["_reasons"][key] = unavailable
            continue
        except QueryError as exc:
            out["_reasons"][key] = str(exc)
            continue
        value = series[0].points[0][1] if series and series[0].points else None
        out[key] = value
        if value is None:
            out["_reasons"][key] = empty
    acc = triage.accuracy(session=session, start=start, end=end)
    out["alert_accuracy"] = acc["accuracy"]
    out["triaged"], out["actionable"] = acc["triaged"], acc["actionable"]
    if acc["accuracy"] is None:
        out["_reasons"]["alert_accuracy"] = "no alert interval in this period has been triaged"
    return out
