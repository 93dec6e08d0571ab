"""Cached loaders for the Feature flags page (cleared after every write)."""

from __future__ import annotations

import streamlit as st

from core.db import session_scope


@st.cache_data(ttl=15, show_spinner=False)
def flags_table(search: str = "", flag_type: str | None = None) -> list[dict]:
    """Flags with their state per environment, rollout and stale marker."""
    from core.flags import service

    with session_scope() as s:
        return service.list_flags(session=s, search=search, flag_type=flag_type)


@st.cache_data(ttl=15, show_spinner=False)
def flag_detail(name: str) -> dict | None:
    """The flag's current snapshot (with its version), or None."""
    from core.flags import service

    with session_scope() as s:
        try:
            return service.snapshot(service.get_flag(session=s, name=name))
        except service.FlagError:
            return None


@st.cache_data(ttl=15, show_spinner=False)
def flag_history(name: str) -> list[dict]:
    """Versions newest first with who, when, why and the diff."""
    from core.flags import service

    with session_scope() as s:
        return service.history(session=s, name=name)


@st.cache_data(ttl=15, show_spinner=False)
def segments() -> list[dict]:
    from core.flags import service

    with session_scope() as s:
        return [{"id": g.id, "name": g.name, "description": g.description, "constraints": g.constraints}
                for g in service.list_segments(session=s)]


@st.cache_data(ttl=15, show_spinner=False)
def flag_schedules(name: str | None = None) -> list[dict]:
    from core.flags import service

    with session_scope() as s:
        return [{"id": x.id, "flag": x.flag.name, "environment": x.environment, "action": x.action, "rollout": x.rollout,
                 "run_at": x.run_at, "status": x.status, "reason": x.reason, "by": x.created_by, "result": x.result}
                for x in service.schedules(session=s, name=name)]


def clear() -> None:
    """Forget every cached flag read (after a write)."""
    for loader in (flags_table, flag_detail, flag_history, segments, flag_schedules):
        loader.clear()
