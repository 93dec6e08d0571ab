"""Cached loaders for the Feature flags page (cleared after every write), and the version each editor works on."""

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
        return [{"id": g.id, "name": g.name, "description": g.description, "constraints": g.constraints,
                 "used_by": service.flags_using_segment(session=s, segment_id=g.id)}
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


# Optimistic concurrency. The cache above is shared by everyone and moves whenever anyone saves, so the
# version an editor's save is checked against lives in their own session: the version of each flag they
# first opened, moved on only by their "Reload" or by their own save made from it.
LOADED_VERSIONS = "flags_loaded_versions"  # {flag name: version this person is editing}


def editing_version(name: str, current: int) -> int:
    """The version of `name` this person is editing (the current one on first opening it). The edit forms'
    fields are keyed by flag and version (field_key), so another flag or version starts them afresh."""
    return st.session_state.setdefault(LOADED_VERSIONS, {}).setdefault(name, current)


def field_key(base: str, name: str, version: int) -> str:
    """The widget key of an edit form's field for one flag at one version (see pages/flags.py)."""
    return f"{base}@{name}@v{version}"


def saved(name: str, version: int) -> None:
    """After this person's own save: they now edit the version it made, unless it skipped someone else's."""
    loaded = st.session_state.setdefault(LOADED_VERSIONS, {})
    if loaded.get(name) == version - 1:
        loaded[name] = version


def reload(name: str) -> None:
    """The "Reload" button: read the flag afresh and edit its newest version."""
    clear()
    st.session_state.setdefault(LOADED_VERSIONS, {}).pop(name, None)
