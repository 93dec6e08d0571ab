"""The overview's KPIs: values, targets, the previous period for the trend, and a red/amber/green state."""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    unit: str                 # "min", "h", "%", "/5", "" (score)
    target: float
    higher_is_better: bool
    amber_margin: float       # how far past the target still counts as amber (in the KPI's units)
    help: str


TARGETS: tuple[Target, ...] = (
    Target("first_response_median_minutes", "First response (median)", "min", 120, False, 30, "Median minutes from creation to the first public agent reply; target under 2 h."),
    Target("first_response_under_2h_share", "First responses under 2 h", "%", 0.90, True, 0.05, "Share of tickets answered within 2 h."),
    Target("resolution_median_minutes", "Resolution (median)", "min", 1440, False, 360, "Median minutes from creation to solved; target under 24 h."),
    Target("resolution_under_24h_share", "Resolved under 24 h", "%", 0.80, True, 0.05, "Share of solved tickets solved within 24 h."),
    Target("sla_first_response_compliance", "SLA: first response met", "%", 0.90, True, 0.05, "Met / (met + breached) first-response targets in business hours."),
    Target("sla_resolution_compliance", "SLA: resolution met", "%", 0.90, True, 0.05, "Met / (met + breached) resolution targets in business hours, pauses excluded."),
    Target("csat_average", "CSAT average", "/5", 4.5, True, 0.3, "Average CSAT rating after resolution; target over 4.5 of 5."),
    Target("nps", "NPS", "", 50, True, 10, "% promoters (9-10) minus % detractors (0-6); target over 50; "
           "under 30 responses is too few to trust."),
    Target("logo_churn", "Monthly churn", "%", 0.05, False, 0.02, "Accounts cancelled in a calendar month / active at its start, "
           "averaged over the complete months in the period (the latest complete month when it holds none); "
           "the trend compares the months just before; target under 5%."),
    Target("uptime", "Uptime", "%", 0.999, True, 0.004, "share of successful uptime probes over the period; target over 99.9%."),
    Target("error_rate", "Error rate", "%", 0.001, False, 0.004, "5xx share of requests; target under 0.1%."),
    Target("alert_accuracy", "Alert accuracy", "%", 0.95, True, 0.05, "Actionable / triaged alerts; target over 95%."),
    Target("bug_fix_median_hours", "Bug fix time (median)", "h", 48, False, 24, "Median hours from a bug report to its deployed fix where one is linked, else to solved; target under 48 h."),
    Target("feedback_implemented_share", "Feedback implemented", "%", 0.20, True, 0.05, "Share of the period's feedback linked to shipped roadmap items; target over 20%."),
)

# `python -m core metrics --json` always prints these keys (null when there is no data), besides every
# TARGETS key and whatever else the providers return.
CONTRACT_KEYS = ("nps", "nps_responses", "csat_share", "csat_average", "rating_average", "logo_churn",
                 "revenue_churn", "first_response_median_minutes", "resolution_median_minutes",
                 "bug_fix_median_hours", "feedback_implemented_share")

# Providers: "module:function" called as function(session=..., start=..., end=...) -> dict of KPI values,
# optionally with "_reasons": {kpi: why it has no value}, "_notes": {kpi: a line shown under its tile} and
# "_previous": {kpi: the value its trend compares with, when that is not the previous window's value}.
# A provider that cannot be imported leaves its tiles at "no data yet" with the reason given here.
# Bug fix time comes from feedback_kpis (core.feedback.measures.bug_fix_time: to the deployed fix where
# one is linked, else to solved), so core.loop.kpis is no provider of its own.
PROVIDERS = [
    ("core.overview.kpis:ticket_kpis", "tickets"),
    ("core.feedback.measures:feedback_kpis", "the feedback module"),
    ("core.monitoring.kpis:monitoring_kpis", "the monitoring module"),
    ("core.sla.reporting:sla_kpis", "the SLA module"),
]


def ticket_kpis(*, session: Session, start: datetime, end: datetime) -> dict:
    """First response and resolution, from tickets created in [start, end), in SQL."""
    # date_part (float8) rather than extract (numeric): the same minutes, sorted about twice as fast.
    row = session.execute(text("""
        SELECT
          percentile_cont(0.5) WITHIN GROUP (ORDER BY date_part('epoch', first_response_at - created_at) / 60)
              FILTER (WHERE first_response_at IS NOT NULL) AS fr_median,
          avg(CASE WHEN first_response_at - created_at <= interval '2 hours' THEN 1.0 ELSE 0.0 END)
              FILTER (WHERE first_response_at IS NOT NULL) AS fr_share,
          percentile_cont(0.5) WITHIN GROUP (ORDER BY date_part('epoch', solved_at - created_at) / 60)
              FILTER (WHERE solved_at IS NOT NULL) AS res_median,
          avg(CASE WHEN solved_at - created_at <= interval '24 hours' THEN 1.0 ELSE 0.0 END)
              FILTER (WHERE solved_at IS NOT NULL) AS res_share,
          count(*) AS tickets
        FROM tickets WHERE created_at >= :start AND created_at < :end
    """), {"start": start, "end": end}).one()
    reasons = {}
    if not row.tickets:
        reasons = {k: "no tickets in this period" for k in (
            "first_response_median_minutes", "first_response_under_2h_share",
            "resolution_median_minutes", "resolution_under_24h_share")}
    return {
        "first_response_median_minutes": _f(row.fr_median), "first_response_under_2h_share": _f(row.fr_share),
        "resolution_median_minutes": _f(row.res_median), "resolution_under_24h_share": _f(row.res_share),
        "tickets": row.tickets, "_reasons": reasons,
    }


def _f(v) -> float | None:
    return None if v is None else round(float(v), 4)


def period(days: int | None = None, month: str | None = None, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[start, end) for the last `days` days, or for the calendar month YYYY-MM (UTC)."""
    now = now or datetime.now(timezone.utc)
    if month:
        try:
            start = datetime.strptime(month, "%Y-%m").replace(tzinfo=timezone.utc)
        except ValueError:
            raise ValueError(f"month must look like 2026-11, not {month!r}") from None
        end = (start + timedelta(days=32)).replace(day=1)
        return start, end
    return now - timedelta(days=days or 30), now


def collect(*, session: Session, start: datetime, end: datetime, failures: list[str] | None = None,
            extras: dict | None = None) -> tuple[dict, dict]:
    """Every KPI value for [start, end), and for each missing one the reason; a failed provider's message is
    appended to `failures` and the providers' "_notes" and "_previous" are merged into `extras` when given."""
    values: dict = {}
    reasons: dict = {}
    extras = {} if extras is None else extras
    for spec, name in PROVIDERS:
        module, fn = spec.split(":")
        try:
            provider = getattr(importlib.import_module(module), fn)
        except (ImportError, AttributeError):
            continue
        try:
            with session.begin_nested():
                got = dict(provider(session=session, start=start, end=end))
        except Exception as exc:  # one broken domain must not blank the whole scorecard
            log.exception("KPI provider %s failed", spec)
            message = f"{name} failed: {(str(exc).splitlines() or [type(exc).__name__])[0][:200]}"
            if failures is not None:
                failures.append(f"{spec}: {message}")
            got = {"_reasons": {t.key: message for t in TARGETS if t.key not in values}}
        reasons.update(got.pop("_reasons", {}) or {})
        for extra in ("_notes", "_previous"):
            extras.setdefault(extra, {}).update(got.pop(extra, {}) or {})
        for k, v in got.items():
            if v is not None or k not in values:
                values[k] = v
    for t in TARGETS:
        if values.get(t.key) is None and t.key not in reasons:
            reasons[t.key] = _missing_reason(t.key)
    return values, reasons


def _missing_reason(key: str) -> str:
    if key in ("csat_average", "nps", "logo_churn", "bug_fix_median_hours", "feedback_implemented_share"):
        return "no data yet: feedback, surveys and subscriptions arrive with the feedback module"
    if key.startswith("sla_"):
        return "no data yet: no SLA clock has stopped or breached in this period"
    if key in ("uptime", "error_rate", "alert_accuracy"):
        return "no data yet: needs Prometheus (and triaged alerts for accuracy)"
    return "no data yet"


def state(t: Target, value: float | None) -> str:
    """'green' when the target is met, 'amber' when within its margin, 'red' otherwise ('none' without data)."""
    if value is None:
        return "none"
    gap = (value - t.target) if t.higher_is_better else (t.target - value)
    if gap >= 0:
        return "green"
    return "amber" if -gap <= t.amber_margin else "red"


def scorecard(*, session: Session, days: int, now: datetime | None = None) -> list[dict]:
    """One tile per target: value, previous-period value, target, state and the reason when empty."""
    start, end = period(days=days, now=now)
    extras: dict = {}
    values, reasons = collect(session=session, start=start, end=end, extras=extras)
    prev, _ = collect(session=session, start=start - (end - start), end=start)
    prev.update(extras.get("_previous", {}))   # monthly churn trends against the months before, not the window
    tiles = []
    for t in TARGETS:
        v = values.get(t.key)
        tile_state = state(t, v)
        if t.key == "nps" and v is not None and values.get("nps_too_few"):
            tile_state = "few"                     # an NPS over a handful of answers is never "on target"
        tiles.append({"key": t.key, "label": t.label, "unit": t.unit, "target": t.target, "value": v,
                      "previous": prev.get(t.key), "state": tile_state, "reason": reasons.get(t.key),
                      "note": extras.get("_notes", {}).get(t.key),
                      "higher_is_better": t.higher_is_better, "help": t.help})
    return tiles


def daily_tickets(*, session: Session, days: int) -> list[dict]:
    """Tickets created and solved per day over the period (for the trend chart)."""
    return [dict(r._mapping) for r in session.execute(text("""
        SELECT d::date AS day,
               (SELECT count(*) FROM tickets WHERE created_at >= d AND created_at < d + interval '1 day') AS created,
               (SELECT count(*) FROM tickets WHERE solved_at >= d AND solved_at < d + interval '1 day') AS solved
        FROM generate_series(date_trunc('day', now()) - make_interval(days => :days - 1), date_trunc('day', now()),
                             interval '1 day') d
        ORDER BY d
    """), {"days": days})]


def format_value(unit: str, value: float | None) -> str:
    """A KPI value as a person reads it."""
    if value is None:
        return "no data yet"
    if unit == "%":
        return f"{value * 100:.2f}%" if value < 0.1 or value > 0.99 else f"{value * 100:.1f}%"
    if unit == "min":
        return f"{value / 60:.1f} h" if value >= 120 else f"{value:.0f} min"
    if unit == "h":
        return f"{value:.1f} h"
    if unit == "/5":
        return f"{value:.2f} / 5"
    return f"{value:.0f}"
