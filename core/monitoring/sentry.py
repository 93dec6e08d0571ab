"""Error tracking: initialise sentry-sdk for a component when SENTRY_DSN is set."""

from __future__ import annotations

from core.config import get_settings

_initialised: set[str] = set()


def init_sentry(component: str) -> bool:
    """Call sentry_sdk.init once per process when SENTRY_DSN is set; return whether it did."""
    settings = get_settings()
    if not settings.sentry_dsn or not settings.sentry_dsn.get_secret_value().strip():
        return False
    if _initialised:
        return True
    import sentry_sdk

    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.environment,
        server_name=component,
        traces_sample_rate=0.0,
        send_default_pii=False,
    )
    sentry_sdk.set_tag("component", component)
    _initialised.add(component)
    return True
