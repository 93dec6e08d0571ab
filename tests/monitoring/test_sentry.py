"""Error tracking starts only when SENTRY_DSN is set."""

from __future__ import annotations

import sentry_sdk

from core.monitoring import sentry


def test_sentry_is_off_without_dsn(settings_env):
    settings_env(SENTRY_DSN="")
    assert sentry.init_sentry("app") is False


def test_sentry_initialises_with_dsn(settings_env, monkeypatch):
    monkeypatch.setattr(sentry, "_initialised", set())
    settings_env(SENTRY_DSN="http://public@127.0.0.1:9/1")
    try:
        assert sentry.init_sentry("worker") is True
        assert sentry_sdk.get_client().is_active()
        assert sentry_sdk.get_client().options["environment"] == "development"
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init()   # back to a disabled client for the rest of the run
