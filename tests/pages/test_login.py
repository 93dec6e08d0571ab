"""Logging in and out through app.py's real login form (streamlit-authenticator backed by PostgreSQL)."""

from streamlit.testing.v1 import AppTest
from sqlalchemy import func, select

from tests.pages.conftest import APP


def _fresh():
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    return at


def _login(at, username, password):
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click().run()
    at.run()  # the run after the cookie component answers
    return at


def test_login_with_the_right_password_opens_the_roles_default_page(seeded_db_url):
    at = _login(_fresh(), "admin", "admin-password")
    assert not at.exception
    assert at.session_state["authentication_status"] is True
    assert [t.value for t in at.title] == ["Overview"]
    assert "Log out" in [b.label for b in at.sidebar.button]  # logging out is tested in tests/e2e


def test_a_customer_lands_on_the_portal(seeded_db_url):
    at = _login(_fresh(), "customer", "aftercare-demo")
    assert [t.value for t in at.title] == ["Support"]


def test_a_wrong_password_or_unknown_user_gets_one_clear_message_and_stores_nothing(seeded_db_url):
    from core.audit.models import AuditLog
    from core.db import session_scope

    with session_scope() as s:
        before = s.scalar(select(func.count()).select_from(AuditLog))
    for user, pw in (("admin", "wrong-password"), ("nobody", "whatever123")):
        at = _login(_fresh(), user, pw)
        assert not at.exception
        assert "Wrong username or password." in [e.value for e in at.error]
        assert not at.session_state["authentication_status"]
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog)) == before


def test_a_disabled_user_cannot_log_in(seeded_db_url):
    from core.auth.service import set_active
    from core.db import session_scope

    with session_scope() as s:
        set_active(session=s, actor="system", username="pm", active=False)
    try:
        at = _login(_fresh(), "pm", "aftercare-demo")
        assert not at.session_state["authentication_status"]
    finally:
        with session_scope() as s:
            set_active(session=s, actor="system", username="pm", active=True)


def test_the_app_starts_and_names_the_server_it_cannot_reach(monkeypatch):
    import streamlit as st

    from core.config import get_settings
    from core.db import reset_engines

    st.cache_data.clear()  # cached credentials from other tests would hide the outage

    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/aftercare")
    get_settings.cache_clear()
    reset_engines()
    try:
        at = _fresh()
        assert not at.exception
        assert any("127.0.0.1" in e.value and "cannot reach PostgreSQL" in e.value for e in at.error)
    finally:
        get_settings.cache_clear()
        reset_engines()


def test_a_logged_in_page_shows_a_banner_not_a_traceback_when_the_database_goes_away(app_as, monkeypatch):
    """The login list is still cached, the server is gone: the page names the server, nothing crashes, and
    the sidebar's health panel opens by itself with what is down."""
    from core.config import get_settings
    from core.db import reset_engines

    at = app_as("support_lead")
    at.switch_page("pages/queue.py").run()
    assert not at.exception
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/aftercare")
    get_settings.cache_clear()
    reset_engines()
    try:
        at.run()
        assert not at.exception, at.exception
        assert any("127.0.0.1" in e.value and "not reachable" in e.value or "cannot reach" in e.value
                   for e in at.error), [e.value for e in at.error]
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        reset_engines()
    at.run()  # the server answers again: the page is back on the next interaction
    assert not at.exception and not at.error
    assert at.title[0].value == "Ticket queue"
