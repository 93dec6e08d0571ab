"""Cached loaders for the releases page (deployments, code and schema state, running versions, the changelog, each
release's window), and the app's own heartbeat."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from core.db import session_scope

TTL = 5  # a release run from the command line shows up here within seconds


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


@st.cache_data(ttl=10, show_spinner=False)
def running_versions() -> list[dict] | None:
    """The app replicas and workers by their heartbeats; None when the table does not exist at this revision."""
    from core.releases import queries

    with session_scope() as s:
        return queries.running_versions(s)


def clear() -> None:
    for fn in (deployments, state, changelog, window_changes, running_versions):
        fn.clear()


def _served() -> bool:
    # AppTest (tests, the release's page check) runs app.py on a stand-in runtime: that is no app replica.
    from streamlit.runtime import Runtime

    return Runtime.exists() and type(Runtime.instance()) is Runtime


@st.cache_resource(show_spinner=False)
def start_heartbeat() -> bool:
    """Start this app process's heartbeat thread once (core.releases.heartbeat); False when not served by
    `streamlit run`. The thread tolerates the database being down, so this never fails a page."""
    if not _served():
        return False
    import logging

    from core.releases.heartbeat import start_process_heartbeat
    from core.releases.models import ProcessKind

    try:
        start_process_heartbeat(ProcessKind.APP)
    except Exception:  # a heartbeat is never worth a broken page
        logging.getLogger(__name__).exception("the app heartbeat did not start")
        return False
    return True
