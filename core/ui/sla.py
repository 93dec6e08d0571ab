"""Cached loaders for the SLA pages (reports, live breached/at-risk lists, policies and calendars)."""

from __future__ import annotations

import streamlit as st

from core.db import session_scope


@st.cache_data(ttl=30, show_spinner=False)
def live(state: str) -> list[dict]:
    """Open tickets breached or at risk now, with business minutes left (negative: overdue) per running target."""
    from core.sla import reporting
    from core.sla.service import format_minutes, sla_for_tickets

    with session_scope() as s:
        rows = reporting.live(session=s, state=state)
        left = sla_for_tickets(session=s, ticket_ids=[r["id"] for r in rows])
    out = []
    for r in rows:
        lf = left.get(r["id"], {})
        out.append({"ticket": f"AC-{r['id']}", "subject": r["subject"], "priority": r["priority"],
                    "status": r["status"], "team": r["team"], "owner": r["owner"],
                    "first response": format_minutes(lf.get("first_response_left")) or
                                      ("breached" if r["fr_breached"] else ("met" if r["fr_stopped_at"] else "")),
                    "resolution": (format_minutes(lf.get("resolution_left"))
                                   + (" (paused)" if r["res_paused"] else "")) if lf.get("resolution_left") is not None
                                  else ("breached" if r["res_breached"] else ""),
                    "first response due": r["fr_due_at"], "resolution due": r["res_due_at"]})
    return out


@st.cache_data(ttl=120, show_spinner=False)
def report(by: str, days: int, tz: str) -> dict:
    """Compliance and percentiles by a dimension, the overall figures, and both distributions."""
    from core.sla import reporting

    from core.rollups.service import snapshot, snapshot_key

    with session_scope() as s:
        got = snapshot(session=s, key=snapshot_key("sla_report", by, days, tz), max_age_seconds=120)
        if got is not None:  # the worker's snapshot of this view, younger than this cache's TTL
            return got
        return {"compliance": reporting.compliance(session=s, by=by, days=days, tz=tz),
                "percentiles": reporting.percentiles(session=s, by=by, days=days, tz=tz),
                "overall": reporting.overall(session=s, days=days),
                "fr_dist": reporting.distribution(session=s, target="first_response", days=days),
                "res_dist": reporting.distribution(session=s, target="resolution", days=days)}


@st.cache_data(ttl=60, show_spinner=False)
def settings() -> dict:
    """Policies and calendars as plain dicts."""
    from core.sla.service import ensure_defaults, list_calendars, list_policies

    with session_scope() as s:
        ensure_defaults(session=s)
        cals = [{"id": c.id, "name": c.name, **c.as_dict()} for c in list_calendars(session=s)]
        names = {c["id"]: c["name"] for c in cals}
        pols = [{"id": p.id, "priority": p.priority, "plan": p.plan,
                 "first_response_minutes": p.first_response_minutes, "resolution_minutes": p.resolution_minutes,
                 "warn_before_minutes": p.warn_before_minutes, "business_hours": p.business_hours,
                 "calendar_id": p.calendar_id, "calendar": names.get(p.calendar_id, "24x7")}
                for p in list_policies(session=s)]
    return {"policies": pols, "calendars": cals}


def clear() -> None:
    live.clear()
    report.clear()
    settings.clear()


@st.cache_data(ttl=30, show_spinner=False)
def queue_columns(ticket_ids: tuple[int, ...]) -> dict[int, dict]:
    """For the queue: {ticket id: {"SLA": state, "first response": "1h 05m left", "resolution": "35m overdue"}}.

    Time left is business time for each running target ("... (paused)" for a paused resolution clock); a
    stopped target says "met" or "breached".
    """
    from core.sla.service import format_minutes, sla_for_tickets

    with session_scope() as s:
        info = sla_for_tickets(session=s, ticket_ids=list(ticket_ids))
    out = {}
    for tid, i in info.items():
        res = format_minutes(i["resolution_left"])
        res = res + " (paused)" if res and i["paused"] else res
        # a stopped clock says how it ended, so a "breached" row shows which target was missed
        out[tid] = {"SLA": i["state"].replace("_", " "),
                    "first response": format_minutes(i["first_response_left"]) or i["first_response_outcome"] or "",
                    "resolution": res or i["resolution_outcome"] or ""}
    return out


def error(message: str) -> None:
    """An error box whose text may quote what a person typed: markdown characters are escaped."""
    import re

    st.error(re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:])", r"\\\1", message))
