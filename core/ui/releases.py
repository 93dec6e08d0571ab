"""Cached loaders for the releases page: deployments, the code and schema state, the changelog, each release's window."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from core.db import session_scope

TTL = 30


@st.cache_data(ttl=TTL, show_spinner=False)
def deployments(limit: int = 50) -> list[dict] | None:
    """Newest first; None when the deployments table does not exist at this revision."""
    from core.releases import queries

    with session_scope() as s:
        return queries.deployments(s, limit=limit)


@st.cache_data(ttl=TTL, show_spinner=False)
def state() -> dict:
    """The running code's version and the schema's current/head/pending revisions."""
    from core.db import database_url
    from core.releases import queries

    out = queries.migration_state(database_url())
    out["code_version"] = queries.code_version()
    return out


@st.cache_data(ttl=300, show_spinner="Reading git history...")
def changelog() -> tuple[str | None, str | None]:
    """(the changelog Markdown, None) or (None, why it could not be generated)."""
    from core.releases import changelog as cl

    try:
        return cl.generate(), None
    except cl.ChangelogError as exc:
        return None, str(exc)


@st.cache_data(ttl=TTL, show_spinner=False)
def window_changes(start: datetime | None, end: datetime) -> dict:
    """Roadmap changes and flag versions saved in (start, end]; a value is None when its table is missing."""
    from core.releases import queries

    with session_scope() as s:
        return {"roadmap": queries.roadmap_changes_between(s, start, end),
                "flags": queries.flag_changes_between(s, start, end)}


def clear() -> None:
    for fn in (deployments, state, changelog, window_changes):
        fn.clear()
