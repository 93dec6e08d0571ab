"""What a page needs first: the logged-in user, refused when the role lacks the page's permission."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.exc import OperationalError

from core.auth.models import User
from core.auth.roles import Permission, has_permission
from core.ui import state


def current_user() -> User | None:
    """The logged-in, active user (detached from any session), or None."""
    username = st.session_state.get(state.USERNAME)
    if not username or not st.session_state.get(state.AUTH_STATUS):
        return None
    from sqlalchemy import select

    from core.db import session_scope

    with session_scope() as s:
        user = s.scalar(select(User).where(User.username == username, User.active.is_(True)))
        if user is not None:
            s.expunge(user)
    return user


def page_user(permission: Permission) -> User:
    """The logged-in user if their role has permission; otherwise the page stops with a message."""
    try:
        user = current_user()
    except OperationalError as exc:
        st.error(f"The database is not reachable: {str(exc.orig).strip().splitlines()[0]}")
        st.stop()
    if user is None:
        st.warning("Please log in.")
        st.stop()
    if not has_permission(user.role, permission):
        st.error("Your role may not open this page.")
        st.stop()
    return user


FLASH_SECONDS = 3.0


def flash(message: str) -> None:
    """Show message on the next run (after a write and st.rerun())."""
    st.session_state[state.FLASH] = (message, None)


def show_flash() -> None:
    """The pending message, kept for FLASH_SECONDS after it was first drawn: a run that a component starts
    right after (the login cookie's, say) replaces the one that drew it, and the person must still see
    "Thanks, your request AC-12 was received". A later interaction no longer shows it."""
    import time

    pending = st.session_state.get(state.FLASH)
    if not pending:
        return
    message, first_shown = pending if isinstance(pending, tuple) else (pending, None)
    now = time.monotonic()
    if first_shown is None:
        st.session_state[state.FLASH] = (message, now)
    elif now - first_shown > FLASH_SECONDS:
        del st.session_state[state.FLASH]
        return
    st.success(message)


def form_key(name: str) -> str:
    """The key of form `name` for this run. It changes after a successful send (form_done), so the form starts
    empty again and a second click cannot send the same thing twice; a refused send keeps what the person
    typed (which clear_on_submit would erase along with the error's cause)."""
    return f"{name}_{st.session_state.get(state.FORM_ROUNDS, {}).get(name, 0)}"


def form_done(name: str) -> None:
    """Start form `name` afresh on the next run (its fields' keys change with the form's)."""
    rounds = dict(st.session_state.get(state.FORM_ROUNDS, {}))
    rounds[name] = rounds.get(name, 0) + 1
    st.session_state[state.FORM_ROUNDS] = rounds
