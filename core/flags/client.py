"""`core.flags.Client`: the SDK for the product's Python services.

It evaluates locally from a snapshot of one environment's flags, refreshed from PostgreSQL by a
background thread (one cheap fingerprint query per interval, the full state only when it changed), so an
evaluation never touches the database. When PostgreSQL is unreachable it keeps serving the last
snapshot and says so through `stale`.

    from core.flags import Client

    flags = Client(environment="production")
    if flags.is_enabled("new-checkout", {"userId": user.id, "properties": {"plan": "pro"}}):
        ...
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import create_engine, pool
from sqlalchemy.orm import Session

from core.flags.evaluator import Engine, disabled_variant

log = logging.getLogger("aftercare.flags.client")


class Client:
    """Local flag evaluation from a background-refreshed snapshot of one environment."""

    def __init__(self, *, environment: str = "production", database_url: str | None = None,
                 refresh_interval: float = 5.0, start: bool = True, app_name: str | None = None,
                 connect_timeout: int = 2, state: Mapping | str | None = None):
        """Connect to PostgreSQL (database_url, default the app's), or serve a fixed `state` (no database)."""
        from core.db.session import database_url as default_url

        self.environment = environment
        if state is not None:
            # A fixed snapshot (tests, benchmarks, offline tools): never refreshed, never stale.
            self.refresh_interval = refresh_interval
            self.app_name = app_name
            self._db = None
            self._engine = Engine(state)
            self._thread = None
            self._stop = threading.Event()
            self._ready = threading.Event()
            self._ready.set()
            self._last_success, self._last_attempt_ok = float("inf"), True
            self.last_error, self.last_refresh = None, datetime.now(timezone.utc)
            return
        self.refresh_interval = refresh_interval
        self.app_name = app_name
        self._url = database_url or default_url()
        args = {"connect_timeout": connect_timeout} if self._url.startswith("postgresql") else {}
        # NullPool: after an outage the next refresh opens a fresh connection instead of a dead pooled one.
        self._db = create_engine(self._url, poolclass=pool.NullPool, connect_args=args)
        self._engine = Engine()
        self._revision: tuple | None = None
        self._last_success: float | None = None
        self._last_attempt_ok = False
        self.last_error: str | None = None
        self.last_refresh: datetime | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        if start:
            self.refresh()
            self._thread = threading.Thread(target=self._loop, name=f"flags-client-{environment}", daemon=True)
            self._thread.start()

    # -- refreshing --------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Fetch the snapshot now if it changed; False (and `stale`) when PostgreSQL cannot be read."""
        from core.flags import service

        if self._db is None:
            return True
        try:
            with Session(self._db) as s:
                revision = service.state_revision(session=s)
                if revision != self._revision:
                    state = service.client_state(session=s, environment=self.environment)
                    engine = Engine(state)
                    self._engine = engine           # one reference swap: readers never see half a state
                    self._revision = revision
        except Exception as exc:  # noqa: BLE001 - any failure keeps the last snapshot
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if self._last_attempt_ok or self.last_error != first:
                log.warning("flags: cannot refresh from PostgreSQL, serving the last snapshot: %s", first)
            self.last_error = first
            self._last_attempt_ok = False
            return False
        self._last_success = time.monotonic()
        self.last_refresh = datetime.now(timezone.utc)
        self._last_attempt_ok = True
        self.last_error = None
        self._ready.set()
        return True

    def _loop(self) -> None:
        while not self._stop.wait(self.refresh_interval):
            self.refresh()

    @property
    def stale(self) -> bool:
        """True when the last refresh failed, or none succeeded within three intervals."""
        if not self._last_attempt_ok or self._last_success is None:
            return True
        if self._db is None:
            return False
        return time.monotonic() - self._last_success > 3 * self.refresh_interval + 1

    @property
    def ready(self) -> bool:
        """Whether at least one snapshot was loaded."""
        return self._ready.is_set()

    def close(self) -> None:
        """Stop the refresh thread and release the database engine."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.refresh_interval + 1)
        if self._db is not None:
            self._db.dispose()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- evaluating ----------------------------------------------------------------------------

    def _ctx(self, context: Mapping[str, Any] | None) -> Mapping[str, Any]:
        if context is None:
            context = {}
        if self.app_name and "appName" not in context:
            context = {**context, "appName": self.app_name}
        if "environment" not in context:
            context = {**context, "environment": self.environment}
        return context

    def is_enabled(self, name: str, context: Mapping[str, Any] | None = None, default: bool = False) -> bool:
        """Whether the flag is on for this Unleash context (default when the flag is unknown)."""
        return self._engine.is_enabled(name, self._ctx(context), default)

    def get_variant(self, name: str, context: Mapping[str, Any] | None = None) -> dict:
        """The variant for this context: {name, enabled, feature_enabled[, payload]}."""
        engine = self._engine
        if not engine.has_feature(name):
            return disabled_variant(False)
        return engine.get_variant(name, self._ctx(context))

    def has_flag(self, name: str) -> bool:
        """Whether the snapshot knows the flag."""
        return self._engine.has_feature(name)

    def flag_names(self) -> list[str]:
        """Every flag in the snapshot."""
        return self._engine.feature_names()
