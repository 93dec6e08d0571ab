"""Cached loaders for the overview page."""

from __future__ import annotations

import streamlit as st

from core.db import session_scope


@st.cache_data(ttl=60, show_spinner="Computing KPIs...")
def scorecard(days: int) -> list[dict]:
    from core.overview.kpis import scorecard as compute

    with session_scope() as s:
        return compute(session=s, days=days)


@st.cache_data(ttl=60, show_spinner=False)
def daily_tickets(days: int) -> list[dict]:
    from core.overview.kpis import daily_tickets as compute

    with session_scope() as s:
        return compute(session=s, days=days)
