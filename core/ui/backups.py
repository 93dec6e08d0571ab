"""Cached loaders for the Backups page (history tables only: no target is contacted while rendering)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.db import session_scope


@st.cache_data(ttl=60, show_spinner=False)
def target_names() -> tuple[list[str], str | None]:
    """The configured targets' names, or an error message when BACKUP_TARGETS is unusable."""
    from core.backups.storage import StorageError, parse_targets

    try:
        return [t.name for t in parse_targets()], None
    except StorageError as exc:
        return [], str(exc)


@st.cache_data(ttl=30, show_spinner=False)
def freshness(targets: tuple[str, ...]) -> list[dict]:
    from core.backups import queries

    with session_scope() as s:
        return queries.target_freshness(s, list(targets))


@st.cache_data(ttl=30, show_spinner=False)
def backups() -> list[dict]:
    from core.backups import queries

    with session_scope() as s:
        return queries.list_backups(s)


@st.cache_data(ttl=30, show_spinner=False)
def sizes() -> pd.DataFrame:
    from core.backups import queries

    with session_scope() as s:
        return pd.DataFrame(queries.sizes_over_time(s), columns=["started_at", "size_bytes", "id"])


@st.cache_data(ttl=30, show_spinner=False)
def presence(targets: tuple[str, ...]) -> pd.DataFrame:
    from core.backups import queries

    with session_scope() as s:
        return pd.DataFrame(queries.presence(s, list(targets)))


@st.cache_data(ttl=30, show_spinner=False)
def restores() -> pd.DataFrame:
    from core.backups import queries

    with session_scope() as s:
        return pd.DataFrame(queries.restores(s))


def clear() -> None:
    """Forget every cached read (after a backup, a restore or a recovery)."""
    for loader in (freshness, backups, sizes, presence, restores):
        loader.clear()
