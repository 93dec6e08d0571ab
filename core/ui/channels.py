"""Cached loaders for the settings page: channel settings and status, sync runs, processed mail."""

from __future__ import annotations

import streamlit as st

from core.db import session_scope


@st.cache_data(ttl=15, show_spinner=False)
def overview() -> dict:
    from core.channels.service import status_overview

    with session_scope() as s:
        return status_overview(session=s)


@st.cache_data(ttl=15, show_spinner=False)
def runs(limit: int = 50) -> list[dict]:
    from core.channels.service import _run_dict, recent_runs

    with session_scope() as s:
        return [_run_dict(r) for r in recent_runs(session=s, limit=limit)]


@st.cache_data(ttl=15, show_spinner=False)
def messages(limit: int = 100) -> list[dict]:
    from core.channels.mailbox import recent_messages

    with session_scope() as s:
        return [{"processed": m.processed_at, "from": m.from_addr or "", "subject": m.subject or "",
                 "outcome": m.outcome, "ticket": f"AC-{m.ticket_id}" if m.ticket_id else "",
                 "reason": m.reason or ""} for m in recent_messages(session=s, limit=limit)]


@st.cache_data(ttl=60, show_spinner=False)
def imap_display() -> str | None:
    """IMAP_URL without its password, or None when unset."""
    from core.channels.mailbox import MailboxError, imap_params
    from core.config import get_settings

    secret = get_settings().imap_url
    if not secret:
        return None
    try:
        return imap_params(secret.get_secret_value()).name
    except MailboxError as exc:
        return f"invalid: {exc}"


def clear() -> None:
    overview.clear()
    runs.clear()
    messages.clear()
