"""A seeded database shared by the page tests of a module, and an AppTest factory logged in as a role."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from tests.conftest import TEMPLATE

APP = "../../app.py"  # AppTest resolves paths relative to this test folder


@pytest.fixture(scope="module")
def seeded_db_url(pg_server_url, template_url):
    """A database with demo data (small), DATABASE_URL pointing at it for the module's tests."""
    from core.config import get_settings
    from core.db import reset_engines, session_scope
    from core.demo.seed import seed_all

    name = f"p_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server_url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))
    url = make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    mp = pytest.MonkeyPatch()
    mp.setenv("DATABASE_URL", url)
    mp.setenv("AUTH_LOGIN_SLEEP", "0")
    mp.setenv("PROMETHEUS_URL", "http://127.0.0.1:9")  # nothing listens: pages must show a banner, not fail
    mp.setenv("ALERTMANAGER_URL", "http://127.0.0.1:9")
    get_settings.cache_clear()
    reset_engines()
    with session_scope() as s:
        from core.auth.service import ensure_admin

        ensure_admin(session=s, password="admin-password")
        seed_all(session=s, tickets=300, days=60, seed=3, now=datetime.now(timezone.utc))
    yield url
    reset_engines()
    mp.undo()
    get_settings.cache_clear()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


USERNAMES = {"admin": "admin", "ops": "ops", "support_lead": "lead", "agent": "agent", "pm": "pm", "customer": "customer"}


@pytest.fixture
def app_as(seeded_db_url):
    """Factory: app_as(role) -> an AppTest of app.py, run once, logged in as that role's demo user."""
    from streamlit.testing.v1 import AppTest

    def _make(role: str):
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state["authentication_status"] = True
        at.session_state["username"] = USERNAMES[role]
        at.session_state["name"] = USERNAMES[role]
        at.session_state["roles"] = [role]
        at.run()
        return at

    return _make
