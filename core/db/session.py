"""Engines and the one-transaction-per-action session scope."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from core.config import get_settings

POOL_SIZE = 5
MAX_OVERFLOW = 5
_engines: dict[str, Engine] = {}
_factories: dict[str, sessionmaker] = {}


def database_url() -> str:
    """DATABASE_URL when set, otherwise the embedded server under var/ (started if needed); redirected to
    the recovered database after a live recovery switched the console (core.backups.recover)."""
    settings = get_settings()
    if settings.database_url:
        url = settings.database_url
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg2://" + url.split("://", 1)[1]
    else:
        from core.db import embedded

        url = embedded.start(settings.embedded_pg_dir)
    try:
        from core.backups.recover import apply_active_database
    except ImportError:
        return url
    return apply_active_database(url)


def get_engine(url: str | None = None) -> Engine:
    """One pooled engine per URL, with short connect timeouts so a dead server is reported fast."""
    url = url or database_url()
    engine = _engines.get(url)
    if engine is None:
        # Every mapped class, before the first session: a process that imported only some domains' models
        # (a CLI command, say) would otherwise fail to flush a row whose foreign keys name another domain's table.
        import core.db.models  # noqa: F401

        engine = create_engine(
            url,
            pool_pre_ping=True,
            pool_size=POOL_SIZE,
            max_overflow=MAX_OVERFLOW,
            pool_timeout=10,
            # The pid in the name lets operators (and the load test) see each process's pool in pg_stat_activity.
            connect_args={"connect_timeout": 3, "application_name": f"aftercare:{os.getpid()}"},
        )
        _engines[url] = engine
        _factories[url] = sessionmaker(engine, expire_on_commit=False)
    return engine


def reset_engines() -> None:
    """Dispose every engine (after a settings change, a fork or a database switch)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
    _factories.clear()


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """One transaction: commit when the block ends, roll back when it raises."""
    url = url or database_url()
    get_engine(url)
    session = _factories[url]()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
