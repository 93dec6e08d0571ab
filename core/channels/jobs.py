"""Channel jobs: poll the support mailbox every IMAP_POLL_SECONDS, sync Zendesk and Front every 5 minutes.

A channel that failed waits longer before the next try (doubling, at most an hour): nothing is lost,
the cursor and the unflagged messages stay where they were.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from core.config import get_settings
from core.jobs import scheduled

SYNC_MINUTES = 5
MAX_BACKOFF_SECONDS = 3600


def backoff_remaining(*, session, provider: str, interval_seconds: float, now: datetime | None = None) -> float:
    """Seconds still to wait after consecutive failures (0 when the channel may run now)."""
    from core.channels.service import consecutive_failures

    failures, last = consecutive_failures(session=session, provider=provider)
    if failures == 0 or last is None:
        return 0.0
    wait = min(interval_seconds * 2 ** (failures - 1), MAX_BACKOFF_SECONDS)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (last + timedelta(seconds=wait) - now).total_seconds())


def _ready(key: str, interval: float) -> str | None:
    """Why the channel must not run now (disabled, backing off), or None."""
    from core.channels.service import get_config
    from core.db import session_scope

    with session_scope() as s:
        if not get_config(session=s, key=key)["enabled"]:
            return f"{key} is not enabled"
        wait = backoff_remaining(session=s, provider=key, interval_seconds=interval)
    return f"{key} backing off after failures ({wait:.0f}s left)" if wait > 0 else None


@scheduled("mailbox_poll", trigger="interval", seconds=max(10, get_settings().imap_poll_seconds))
def mailbox_poll_job() -> str:
    """One pass over the support mailbox."""
    from core.channels.mailbox import poll

    if not get_settings().imap_url:
        return "IMAP_URL not set"
    why = _ready("mailbox", get_settings().imap_poll_seconds)
    if why:
        return why
    from core.channels.service import ChannelBusy

    try:
        result = poll()
    except ChannelBusy as exc:
        return str(exc)  # a "Poll now" from the settings page is running: not a failure
    if result.error:
        raise RuntimeError(result.error)
    return ", ".join(result.lines()[1:4])


def _sync(name: str) -> str:
    from core.tickets.providers import ProviderBusy, run_sync

    why = _ready(name, SYNC_MINUTES * 60)
    if why:
        return why
    try:
        result = run_sync(name)
    except ProviderBusy as exc:
        return str(exc)  # a "Sync now" from the settings page is running: not a failure
    if result.error:
        raise RuntimeError(result.error)
    return "; ".join(result.lines()[1:3])


@scheduled("zendesk_sync", trigger="interval", minutes=SYNC_MINUTES)
def zendesk_sync_job() -> str:
    """Sync Zendesk both ways when enabled."""
    return _sync("zendesk")


@scheduled("front_sync", trigger="interval", minutes=SYNC_MINUTES)
def front_sync_job() -> str:
    """Sync Front both ways when enabled."""
    return _sync("front")
