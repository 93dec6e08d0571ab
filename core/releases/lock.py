"""The release lock: a PostgreSQL advisory lock held on its own connection, plus a row saying who holds it."""

from __future__ import annotations

import os
import socket
from datetime import datetime

from sqlalchemy import create_engine, delete, inspect, pool, select, text
from sqlalchemy.orm import Session

from core.releases.models import ReleaseLock

RELEASE_LOCK = 7_311_009  # advisory-lock key: one release (or release rollback) at a time


class ReleaseBusy(Exception):
    """Another release holds the lock; the message says who, where and since when."""


def _describe(row: ReleaseLock | None) -> str:
    if row is None:
        return "another release is running (its holder did not record itself)"
    since = row.acquired_at.strftime("%Y-%m-%d %H:%M:%S %Z") if isinstance(row.acquired_at, datetime) else row.acquired_at
    where = f" on {row.host}" if row.host else ""
    pid = f" (pid {row.pid})" if row.pid else ""
    what = f" for {row.purpose}" if row.purpose else ""
    dep = f", deployment #{row.deployment_id}" if row.deployment_id else ""
    return f"another release is running: held by {row.holder}{where}{pid} since {since}{what}{dep}"


def holder(url: str) -> str | None:
    """Who holds the release lock right now (None when nobody does)."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            free = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": RELEASE_LOCK}).scalar()
            if free:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": RELEASE_LOCK})
                return None
            if not inspect(conn).has_table(ReleaseLock.__tablename__):
                return _describe(None)
            with Session(bind=conn) as s:
                return _describe(s.get(ReleaseLock, 1))
    finally:
        engine.dispose()


class ReleaseLockHandle:
    """Holds the advisory lock for as long as the object lives (use it as a context manager)."""

    def __init__(self, url: str, *, actor: str, purpose: str = "release"):
        from core.backups.recover import LOCK_APPLICATION, writable_url

        self.url, self.actor, self.purpose = url, actor, purpose
        # Its own name and writes allowed: a restore during the release makes the old database read-only and
        # ends the other sessions there, but not this one, so the lock and its row outlive the switch.
        self._engine = create_engine(writable_url(url), poolclass=pool.NullPool,
                                     connect_args={"application_name": LOCK_APPLICATION})
        self._conn = None

    def __enter__(self) -> "ReleaseLockHandle":
        conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": RELEASE_LOCK}).scalar()
            if not got:
                row = None
                if inspect(conn).has_table(ReleaseLock.__tablename__):
                    with Session(bind=conn) as s:
                        row = s.get(ReleaseLock, 1)
                        message = _describe(row)
                else:
                    message = _describe(None)
                raise ReleaseBusy(message)
        except BaseException:
            conn.close()
            self._engine.dispose()
            raise
        self._conn = conn
        self._write_row(deployment_id=None)
        return self

    def _has_table(self) -> bool:
        return inspect(self._conn).has_table(ReleaseLock.__tablename__)

    def _write_row(self, *, deployment_id: int | None) -> None:
        # Autocommit: the row is visible to other releases at once and no transaction stays open
        # (a migration that alters this table must not wait on us).
        if not self._has_table():
            return
        with Session(bind=self._conn) as s:
            s.execute(delete(ReleaseLock))
            s.add(ReleaseLock(id=1, holder=self.actor, host=socket.gethostname(), pid=os.getpid(),
                              deployment_id=deployment_id, purpose=self.purpose))
            s.commit()

    def set_deployment(self, deployment_id: int | None) -> None:
        """Name the deployment this lock is held for (shown to a refused second release)."""
        try:
            self._write_row(deployment_id=deployment_id)
        except Exception:
            pass  # the row is a courtesy; the advisory lock is what excludes

    def __exit__(self, *exc) -> None:
        try:
            if self._conn is not None:
                try:
                    if self._has_table():
                        with Session(bind=self._conn) as s:
                            s.execute(delete(ReleaseLock))
                            s.commit()
                finally:
                    self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": RELEASE_LOCK})
        finally:
            if self._conn is not None:
                self._conn.close()
            self._engine.dispose()


def clear_rows(url: str) -> None:
    """Delete a stale holder row (after a restore brought back the row that existed at backup time)."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            if inspect(conn).has_table(ReleaseLock.__tablename__):
                conn.execute(delete(ReleaseLock))
    finally:
        engine.dispose()


def current_holder_row(session: Session) -> ReleaseLock | None:
    """The holder row as stored (may be stale when its process died; the advisory lock is the truth)."""
    return session.scalar(select(ReleaseLock).where(ReleaseLock.id == 1))
