"""Optional error tracking at process start (Sentry, when SENTRY_DSN is set)."""

from __future__ import annotations


def init_error_tracking(component: str) -> None:
    """Initialise Sentry for component when configured; a missing module or DSN is not an error."""
    try:
        from core.monitoring.sentry import init_sentry
    except ImportError:
        return
    init_sentry(component)
