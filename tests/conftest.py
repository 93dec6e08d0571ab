"""Test fixtures: a real PostgreSQL server (embedded by default, TEST_DATABASE_URL for another),
a migrated template database, and a fresh database cloned from it for every test that asks."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("BCRYPT_ROUNDS", "4")  # fast password hashes in tests (production default: 12)
# One template per pytest process, so parallel runs on one server never drop each other's template.
TEMPLATE = f"aftercare_template_{os.getpid()}"


def _admin_engine(server_url: str):
    return create_engine(server_url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """URL of the PostgreSQL server the tests use (its maintenance database)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg2://" + url.split("://", 1)[1]
        yield url
        return
    from core.db import embedded

    data_dir = ROOT / "var" / "test-pg"
    url = embedded.start(data_dir, stop_at_exit=True)
    yield url
    embedded.stop(data_dir)


def _url_for(server_url: str, dbname: str) -> str:
    return make_url(server_url).set(database=dbname).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def template_url(pg_server_url) -> str:
    """A database migrated to head, cloned by `db_url` for each test."""
    from core.db import migrate

    admin = _admin_engine(pg_server_url)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {TEMPLATE}"))
    url = _url_for(pg_server_url, TEMPLATE)
    migrate.upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def db_url(pg_server_url, template_url, monkeypatch) -> str:
    """A fresh migrated database for this test; DATABASE_URL points at it while the test runs."""
    from core.config import get_settings
    from core.db import reset_engines

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine(pg_server_url)
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))
    url = _url_for(pg_server_url, name)
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    reset_engines()
    yield url
    reset_engines()
    get_settings.cache_clear()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def session(db_url) -> Session:
    """A session on the test's fresh database; the test may commit freely."""
    from core.db import get_engine

    s = Session(get_engine(db_url), expire_on_commit=False)
    yield s
    s.rollback()
    s.close()


@pytest.fixture
def make_user(session):
    """Factory: make_user(role, username=None, team=None) -> User, committed."""
    from core.auth import service
    from core.auth.models import Team

    counter = {"n": 0}

    def _make(role: str, username: str | None = None, team: str | None = None, password: str = "password123", **kw):
        counter["n"] += 1
        if team and session.query(Team).filter_by(key=team).first() is None:
            session.add(Team(key=team, name=team.title()))
            session.flush()
        user = service.create_user(session=session, actor="system", username=username or f"{role}{counter['n']}",
                                   name=f"{role.title()} {counter['n']}", email=f"{role}{counter['n']}@example.com",
                                   role=role, password=password, team_key=team, **kw)
        session.commit()
        return user

    return _make


@pytest.fixture(autouse=True)
def _fresh_streamlit_caches():
    """Each test starts with empty st.cache_data: the caches live in this process, so another test's database
    or backend (roadmap items, accounts, what Alertmanager held) must not show up in this one's pages."""
    import streamlit as st

    st.cache_data.clear()
    yield
