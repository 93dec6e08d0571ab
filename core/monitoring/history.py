"""Alert history as firing intervals, built from range queries over Prometheus' ALERTS series."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from core.monitoring.prom import Prometheus

# One point per minute whatever the range, so an interval's start is the same in every view (triage keys on it).
STEP_SECONDS = 60
# Prometheus returns at most 11,000 points per series; ask for less per query and stitch.
POINTS_PER_QUERY = 10_000
IGNORED_LABELS = {"__name__", "alertstate"}
# How far before a range's start to look for the real start of an interval already firing at it. The limit
# sits on a whole UTC day, so an interval older than it keeps the same (marked) start all day, not a new one
# every minute; deploy/prometheus.yml keeps 35 days, so older samples are gone anyway.
LOOKBACK_SECONDS = 30 * 86400
LOOKBACK_ALIGN_SECONDS = 86400
# The first look back covers an hour, each next one twice as much (most alerts started shortly before).
FIRST_LOOKBACK_STEPS = 60


@dataclass(frozen=True)
class AlertInterval:
    alertname: str
    labels: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None          # None: still firing at the end of the range
    started_before: bool = False      # True: firing since at least starts_at (the lookback limit); real start unknown

    @property
    def labels_key(self) -> str:
        return labels_key(self.labels)

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "")

    def duration(self, now: datetime | None = None) -> timedelta:
        return (self.ends_at or now or datetime.now(timezone.utc)) - self.starts_at

    @property
    def start_text(self) -> str:
        """The start for people: "2026-05-01 10:00 UTC", or "started before ..." when older than the lookback."""
        text = f"{self.starts_at:%Y-%m-%d %H:%M} UTC"
        return f"started before {text}" if self.started_before else text


def labels_key(labels: dict[str, str]) -> str:
    """A canonical text for an alert's identity (its labels minus alertstate)."""
    return json.dumps({k: v for k, v in sorted(labels.items()) if k not in IGNORED_LABELS}, separators=(",", ":"))


def _grid(dt: datetime, step: int, *, up: bool) -> int:
    ts = dt.timestamp()
    n = int(ts // step)
    if up and n * step < ts:
        n += 1
    return n * step


def firing_intervals(*, prom: Prometheus, start: datetime, end: datetime, alertname: str | None = None,
                     step: int = STEP_SECONDS) -> list[AlertInterval]:
    """Every firing interval of every alert that fired in [start, end], newest first.

    A minute counts as firing when ALERTS{alertstate="firing"} has a sample in the minute up to it;
    an interval runs from its first to its last firing minute, even when that first minute lies before
    `start` (looked up, up to LOOKBACK_SECONDS back); one still firing at `end` has no end.
    """
    selector = 'alertstate="firing"' + (f',alertname="{_escape(alertname)}"' if alertname else "")
    first, last = _grid(start, step, up=True), _grid(end, step, up=False)
    if last < first:
        return []
    runs: dict[str, dict] = {}
    _collect(prom, selector, first, last, step, runs)
    limit = _lookback_limit(first, step)
    open_keys = {k for k, e in runs.items() if first in e["ts"]}
    cursor, size = first, FIRST_LOOKBACK_STEPS
    while open_keys and cursor > limit:
        names = sorted({runs[k]["labels"].get("alertname", "") for k in open_keys})
        back_selector = 'alertstate="firing",alertname=~"' + "|".join(_escape(re.escape(n)) for n in names) + '"'
        chunk_start = max(limit, cursor - size * step)
        seen: dict[str, dict] = {}
        _collect(prom, back_selector, chunk_start, cursor - step, step, seen)
        for key in list(open_keys):
            ts = seen.get(key, {}).get("ts", set())
            t = cursor - step
            while t >= chunk_start and t in ts:
                t -= step
            runs[key]["ts"].update(range(t + step, cursor, step))
            if t >= chunk_start:           # a minute without firing: the interval started right after it
                open_keys.discard(key)
        cursor, size = chunk_start, min(size * 2, POINTS_PER_QUERY)

    intervals: list[AlertInterval] = []
    for key, entry in runs.items():
        ts = sorted(entry["ts"])
        run_start = prev = ts[0]
        for t in ts[1:] + [None]:
            if t is not None and t - prev == step:
                prev = t
                continue
            ends = None if prev >= last else prev
            intervals.append(AlertInterval(alertname=entry["labels"].get("alertname", ""), labels=entry["labels"],
                                           starts_at=datetime.fromtimestamp(run_start, timezone.utc),
                                           ends_at=None if ends is None else datetime.fromtimestamp(ends, timezone.utc),
                                           started_before=key in open_keys and run_start == ts[0]))
            if t is not None:
                run_start = prev = t
    intervals.sort(key=lambda i: (i.starts_at, i.alertname), reverse=True)
    return intervals


def _collect(prom: Prometheus, selector: str, first: int, last: int, step: int, runs: dict[str, dict]) -> None:
    """Add the firing minutes in [first, last] (grid timestamps) of every series matching selector to runs."""
    # last_over_time over one step (minus a second) maps raw samples onto the minute grid exactly,
    # without the 5-minute lookback that would stretch every interval. It needs rules evaluated more
    # often than once a step (deploy/prometheus.yml: every 15 s).
    query = f"last_over_time(ALERTS{{{selector}}}[{step - 1}s])"
    chunk_start = first
    while chunk_start <= last:
        chunk_end = min(last, chunk_start + (POINTS_PER_QUERY - 1) * step)
        if chunk_end == chunk_start:       # Prometheus wants end after start: one point is a range of one step
            chunk_end_dt = datetime.fromtimestamp(chunk_end + step, timezone.utc)
        else:
            chunk_end_dt = datetime.fromtimestamp(chunk_end, timezone.utc)
        series = prom.range_query(query, start=datetime.fromtimestamp(chunk_start, timezone.utc), end=chunk_end_dt,
                                  step=step)
        for s in series:
            key = labels_key(s.labels)
            entry = runs.setdefault(key, {"labels": {k: v for k, v in s.labels.items() if k not in IGNORED_LABELS},
                                          "ts": set()})
            entry["ts"].update(t for t in (int(round(p[0].timestamp())) for p in s.points) if t <= chunk_end)
        chunk_start = chunk_end + step


def _lookback_limit(first: int, step: int) -> int:
    """The earliest minute looked at for intervals firing at `first`: on a whole UTC day, so it moves once a day."""
    limit = (first - LOOKBACK_SECONDS) // LOOKBACK_ALIGN_SECONDS * LOOKBACK_ALIGN_SECONDS
    return limit // step * step


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
