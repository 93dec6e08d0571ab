"""The app's frame: login, role-based navigation, the sidebar (who, logout, health)."""

from __future__ import annotations

import streamlit as st
import streamlit_authenticator as stauth
from sqlalchemy.exc import OperationalError

from core.auth.roles import Role
from core.config import get_settings
from core.ui import state
from core.ui.nav import pages_for
from core.ui.widgets import md_escape

LOGIN_SLEEP_ENV = "AUTH_LOGIN_SLEEP"


@st.cache_data(ttl=15, show_spinner=False)
def _health() -> list[tuple[str, bool, str]]:
    from core import health

    return [(h.name, h.ok, h.detail) for h in health.all_checks()]


@st.cache_data(ttl=10, show_spinner=False)
def _credentials() -> dict:
    from core.auth.service import credentials
    from core.db import session_scope

    with session_scope() as s:
        return credentials(session=s)


def _authenticator(creds: dict) -> stauth.Authenticate:
    import os

    settings = get_settings()
    return stauth.Authenticate(
        creds, cookie_name=settings.auth_cookie_name, cookie_key=settings.cookie_key(),
        cookie_expiry_days=settings.auth_cookie_expiry_days, auto_hash=False,
        login_sleep_time=float(os.environ.get(LOGIN_SLEEP_ENV, "0.7")),
    )


def _database_down(detail: str) -> None:
    st.title("Aftercare")
    st.error(f"The console cannot start: {detail}")
    st.caption("Check DATABASE_URL (README, Troubleshooting) and reload this page.")


def main() -> None:
    """Render the whole app for this run."""
    try:
        creds = _credentials()
    except Exception as exc:
        from core.health import database

        _database_down(database().detail if not database().ok else str(exc).splitlines()[0])
        return
    auth = _authenticator(creds)
    user = None
    if st.session_state.get(state.AUTH_STATUS):
        from core.ui.context import current_user

        try:
            user = current_user()
        except OperationalError:  # the server went away after the login list was cached: a banner, no traceback
            _database_down(_db_detail())
            return
        if user is None:  # disabled or deleted since the cookie was issued
            auth.logout(location="unrendered")
        elif _sidebar_user(auth, user):  # the user logged out in this run
            user = None
    if user is None:
        _login_page(auth)
        return
    specs = pages_for(user.role)
    default_key = next((s.key for s in specs if Role(user.role) in s.default_for), specs[0].key if specs else None)
    sections: dict[str, list] = {}
    for spec in specs:
        sections.setdefault(spec.section, []).append(
            st.Page(spec.path, title=spec.title, icon=spec.icon, url_path=spec.key, default=spec.key == default_key))
    nav = st.navigation(sections, expanded=True)  # every page a role may open is listed, none folded away
    if Role(user.role) != Role.CUSTOMER:  # server names and outages are staff information
        _sidebar_health()
    try:
        nav.run()
    except OperationalError:
        # PostgreSQL restarted or unreachable mid-page: say so where the page was; the pool drops the dead
        # connections, so the next interaction (or a reload) recovers once the server answers.
        st.error(f"The database stopped answering: {_db_detail()}. Nothing was changed by this action; "
                 "try again in a moment.", icon=":material/cloud_off:")


def _db_detail() -> str:
    from core.health import database

    got = database()
    return md_escape(got.detail if not got.ok else "the connection was lost and has been reset")


def _login_page(auth: stauth.Authenticate) -> None:
    def login() -> None:
        st.title("Aftercare")
        st.caption("The post-sales console: tickets, feedback, monitoring, flags and backups.")
        try:
            auth.login(location="main", key="login",
                       fields={"Form name": "Log in", "Username": "Username", "Password": "Password", "Login": "Log in"})
        except Exception as exc:  # the library raises on e.g. too many attempts
            st.error(md_escape(str(exc)))
        if st.session_state.get(state.AUTH_STATUS) is False:
            st.error("Wrong username or password.")
        elif st.session_state.get(state.AUTH_STATUS):
            # No st.rerun() here: the cookie component must reach the browser first; its answer reruns the app.
            st.success("Logged in. Opening the console...")

    # Every page's address leads to the login form, so a deep link survives logging in (or the cookie
    # re-login that follows a reload); after login the role's own navigation decides what it may open.
    from core.ui.nav import PAGES

    def placeholder(title: str):
        def page() -> None:
            login()
        page.__name__ = f"login_{title}"
        return page

    pages = [st.Page(login, title="Log in", icon=":material/login:", url_path="login", default=True)]
    pages += [st.Page(placeholder(spec.key), title=spec.title, url_path=spec.key) for spec in PAGES]
    st.navigation(pages, position="hidden").run()


def _sidebar_user(auth: stauth.Authenticate, user) -> bool:
    """Who is logged in, and the logout button; True when the user logged out in this run.

    Rendered before the navigation so a logout shows the login form in the same run: no st.rerun(), which
    would drop the component that deletes the login cookie.
    """
    with st.sidebar:
        st.markdown(f"**{user.name}**  \n{Role(user.role).value.replace('_', ' ')}")
        if st.button("Log out", key="logout_button"):
            auth.logout(location="unrendered")  # clears the session, deletes the cookie, blocks a cookie re-login
            return True
    return False


def _sidebar_health() -> None:
    checks = _health()
    down = [name for name, ok, _ in checks if not ok]
    with st.sidebar:
        # Folded while all is well; open, and titled with what is down, when something is not.
        title = "System health" + (f": {', '.join(down)} down" if down else "")
        with st.expander(title, expanded=bool(down), icon=":material/error:" if down else None):
            for name, ok, detail in checks:
                (st.success if ok else st.error)(f"{name}: {'up' if ok else 'down'}", icon=":material/check_circle:" if ok else ":material/error:")
                st.caption(md_escape(detail))
