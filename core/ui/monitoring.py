"""Cached loaders and small widgets for the Monitoring and Alerts pages (Prometheus, Alertmanager, triage)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import streamlit as st

from core.db import session_scope
from core.monitoring.errors import MonitoringUnavailable

RANGES = {"Last hour": timedelta(hours=1), "Last 6 hours": timedelta(hours=6), "Last 24 hours": timedelta(hours=24),
          "Last 7 days": timedelta(days=7), "Last 30 days": timedelta(days=30)}


def now_minute() -> datetime:
    """Now, rounded down to the minute (so cached queries are shared within a minute)."""
    return datetime.now(timezone.utc).replace(second=0, microsecond=0)


def range_picker(key: str, default: str = "Last 24 hours") -> tuple[datetime, datetime]:
    """A time-range picker: presets or a custom pair of dates (UTC); returns (start, end)."""
    names = [*RANGES, "Custom"]
    choice = st.selectbox("Time range", names, index=names.index(default), key=f"{key}_range")
    end = now_minute()
    if choice != "Custom":
        return end - RANGES[choice], end
    today = end.date()
    picked = st.date_input("From - to (UTC)", value=(today - timedelta(days=2), today), max_value=today,
                           key=f"{key}_dates")
    if not isinstance(picked, (tuple, list)) or len(picked) != 2:
        st.info("Pick a start and an end date.")
        st.stop()
    start = datetime.combine(picked[0], datetime.min.time(), tzinfo=timezone.utc)
    stop = min(end, datetime.combine(picked[1], datetime.min.time(), tzinfo=timezone.utc) + timedelta(days=1))
    return start, stop


def unavailable_banner(exc: MonitoringUnavailable) -> None:
    """Say which backend is down and since when (the rest of the console keeps working)."""
    st.error(f"{exc.backend} is not reachable at {exc.url} since {exc.since:%Y-%m-%d %H:%M:%S} UTC ({exc.reason}). "
             "Charts and alerts from it are unavailable; the rest of the console works.", icon=":material/cloud_off:")


@st.cache_data(ttl=30, show_spinner=False)
def panel_frame(key: str, start: datetime, end: datetime) -> pd.DataFrame:
    """One monitoring panel as a long DataFrame (time, series, value)."""
    from core.monitoring.prom import Prometheus
    from core.monitoring.queries import PANELS, panel_series

    panel = next(p for p in PANELS if p.key == key)
    rows = []
    for s in panel_series(prom=Prometheus(), panel=panel, start=start, end=end):
        name = s.label(*panel.legend) if panel.legend else panel.title
        rows += [{"time": t, "series": name, "value": v} for t, v in s.points]
    return pd.DataFrame(rows, columns=["time", "series", "value"])


@st.cache_data(ttl=60, show_spinner=False)
def uptime_table(at: datetime) -> pd.DataFrame:
    """Uptime per probe over 24 h, 7 d and 30 d."""
    from core.monitoring.prom import Prometheus
    from core.monitoring.queries import UPTIME_WINDOWS, uptime_by_probe

    data = uptime_by_probe(prom=Prometheus(), at=at)
    return pd.DataFrame([{"probe": p, **{w: v.get(w) for w in UPTIME_WINDOWS}} for p, v in sorted(data.items())],
                        columns=["probe", *UPTIME_WINDOWS])


@st.cache_data(ttl=15, show_spinner=False)
def firing_now() -> list[dict]:
    """Alerts Alertmanager holds now, with silenced / inhibited state."""
    from core.monitoring.alertmanager import Alertmanager

    return Alertmanager().alerts()


@st.cache_data(ttl=30, show_spinner=False)
def rules() -> list[dict]:
    """Alert rules and their state from Prometheus."""
    from core.monitoring.prom import Prometheus

    return Prometheus().rules()


@st.cache_data(ttl=15, show_spinner=False)
def silences() -> list[dict]:
    """Silences from Alertmanager."""
    from core.monitoring.alertmanager import Alertmanager

    return Alertmanager().silences()


@st.cache_data(ttl=30, show_spinner=False)
def intervals(start: datetime, end: datetime) -> list[dict]:
    """Firing intervals in [start, end] with their triage verdict and note (if any)."""
    from core.monitoring import history, triage
    from core.monitoring.prom import Prometheus

    found = history.firing_intervals(prom=Prometheus(), start=start, end=end)
    # an interval firing at the range's start keeps its real (earlier) start, and its verdict with it
    since = min([i.starts_at for i in found] + [start - timedelta(minutes=1)])
    with session_scope() as s:
        verdicts = triage.verdicts(session=s, start=since, end=end)
        out = []
        for i in found:
            t = verdicts.get((i.alertname, i.labels_key, i.starts_at))
            out.append({"alertname": i.alertname, "severity": i.severity, "service": i.labels.get("service", ""),
                        "start": i.start_text, "starts_at": i.starts_at, "ends_at": i.ends_at,
                        "duration_min": round(i.duration().total_seconds() / 60, 1),
                        "labels": ", ".join(f"{k}={v}" for k, v in i.labels.items() if k != "alertname"),
                        "verdict": t.verdict if t else "", "note": t.note if t else "",
                        "_labels": i.labels})
    return out


@st.cache_data(ttl=30, show_spinner=False)
def accuracy(start: datetime, end: datetime) -> dict:
    """Alert accuracy over intervals starting in [start, end], overall and per alert."""
    from core.monitoring import triage

    with session_scope() as s:
        return {"overall": triage.accuracy(session=s, start=start, end=end),
                "by_alert": triage.by_alert(session=s, start=start, end=end)}


@st.cache_data(ttl=15, show_spinner=False)
def attempts(limit: int = 200) -> pd.DataFrame:
    """The notification attempts log, newest first."""
    from core.monitoring.notify import attempts_log

    with session_scope() as s:
        rows = attempts_log(session=s, limit=limit)
        return pd.DataFrame([{"at": a.created_at, "channel": a.channel, "target": a.target, "subject": a.subject,
                              "severity": a.severity, "dedup key": a.dedup_key or "", "attempt": a.attempt,
                              "status": a.status, "http": a.http_status, "error": a.error or "",
                              "ms": a.duration_ms} for a in rows],
                            columns=["at", "channel", "target", "subject", "severity", "dedup key", "attempt",
                                     "status", "http", "error", "ms"])


def clear() -> None:
    """Clear every monitoring loader after a write."""
    for fn in (firing_now, silences, intervals, accuracy, attempts):
        fn.clear()
