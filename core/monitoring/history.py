"""Alert history as firing intervals, built from range queries over Prometheus' ALERTS series."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from core.monitoring.prom import Prometheus

# One point per minute whatever the range, so an interval's start is the same in every view (triage keys on it).
STEP_SECONDS = 60
# Prometheus returns at most 11,000 points per series; ask for less per query and stitch.
POINTS_PER_QUERY = 10_000
IGNORED_LABELS = {"__name__", "alertstate"}


@dataclass(frozen=True)
class AlertInterval:
    alertname: str
    labels: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None          # None: still firing at the end of the range

    @property
    def labels_key(self) -> str:
        return labels_key(self.labels)

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "")

    def duration(self, now: datetime | None = None) -> timedelta:
        return (self.ends_at or now or datetime.now(timezone.utc)) - self.starts_at


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
    """Every firing interval of every alert in [start, end], newest first.

    A minute counts as firing when ALERTS{alertstate="firing"} has a sample in the minute up to it;
    an interval runs from its first to its last firing minute; one still firing at `end` has no end.
    """
    selector = 'alertstate="firing"' + (f',alertname="{_escape(alertname)}"' if alertname else "")
    # last_over_time over one step (minus a second) maps raw samples onto the minute grid exactly,
    # without the 5-minute lookback that would stretch every interval. It needs rules evaluated more
    # often than once a step (deploy/prometheus.yml: every 15 s).
    query = f"last_over_time(ALERTS{{{selector}}}[{step - 1}s])"
    first, last = _grid(start, step, up=True), _grid(end, step, up=False)
    if last < first:
        return []
    runs: dict[str, dict] = {}
    chunk_start = first
    while chunk_start <= last:
        chunk_end = min(last, chunk_start + (POINTS_PER_QUERY - 1) * step)
        series = prom.range_query(query, start=datetime.fromtimestamp(chunk_start, timezone.utc),
                                  end=datetime.fromtimestamp(chunk_end, timezone.utc), step=step)
        for s in series:
            key = labels_key(s.labels)
            entry = runs.setdefault(key, {"labels": {k: v for k, v in s.labels.items() if k not in IGNORED_LABELS},
                                          "ts": set()})
            entry["ts"].update(int(round(p[0].timestamp())) for p in s.points)
        chunk_start = chunk_end + step

    intervals: list[AlertInterval] = []
    for entry in runs.values():
        ts = sorted(entry["ts"])
        run_start = prev = ts[0]
        for t in ts[1:] + [None]:
            if t is not None and t - prev == step:
                prev = t
                continue
            ends = None if prev >= last else prev
            intervals.append(AlertInterval(alertname=entry["labels"].get("alertname", ""), labels=entry["labels"],
                                           starts_at=datetime.fromtimestamp(run_start, timezone.utc),
                                           ends_at=None if ends is None else datetime.fromtimestamp(ends, timezone.utc)))
            if t is not None:
                run_start = prev = t
    intervals.sort(key=lambda i: (i.starts_at, i.alertname), reverse=True)
    return intervals


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
