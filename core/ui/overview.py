"""Cached loaders for the overview page."""

from __future__ import annotations

import streamlit as st

from core.db import session_scope


@st.cache_data(ttl=60, show_spinner="Computing KPIs...")
def scorecard(days: int) -> list[dict]:
    from core.overview.kpis import scorecard as compute

    with session_scope() as s:
        got = _snapshot(s, "overview_scorecard", days)
        return got if got is not None else compute(session=s, days=days)


@st.cache_data(ttl=60, show_spinner=False)
def daily_tickets(days: int) -> list[dict]:
    from core.overview.kpis import daily_tickets as compute

    with session_scope() as s:
        got = _snapshot(s, "overview_daily", days)
        return got if got is not None else compute(session=s, days=days)


def _snapshot(session, name: str, *args):
    """The worker's snapshot of this loader's result when younger than the cache TTL (core.rollups), else None."""
    from core.rollups.service import snapshot, snapshot_key

    return snapshot(session=session, key=snapshot_key(name, *args), max_age_seconds=60)
