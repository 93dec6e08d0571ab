"""Helpdesk providers behind one interface (base.Provider): native (default), Zendesk, Front; `run_sync` runs one pass."""

from __future__ import annotations

import logging

from core.tickets.providers.base import Provider, ProviderBusy, ProviderError, RateLimited, SyncResult

log = logging.getLogger(__name__)

PROVIDERS = {
    "native": "core.tickets.providers.native:NativeProvider",
    "zendesk": "core.tickets.providers.zendesk:ZendeskProvider",
    "front": "core.tickets.providers.front:FrontProvider",
}


def _token(name: str) -> str | None:
    from core.config import get_settings

    secret = getattr(get_settings(), f"{name}_api_token", None)
    return secret.get_secret_value() if secret else None


def build(name: str, *, config: dict | None = None) -> Provider:
    """The provider object from its settings (table) and token (environment); ProviderError when unusable."""
    import importlib

    from core.channels import service
    from core.db import session_scope

    if name not in PROVIDERS:
        raise ProviderError(f"no provider {name!r} (choose from {', '.join(PROVIDERS)})")
    if config is None and name != "native":
        with session_scope() as s:
            config = service.get_config(session=s, key=name)
    module, cls = PROVIDERS[name].split(":")
    return getattr(importlib.import_module(module), cls)(config=config or {}, token=_token(name))


def run_sync(name: str) -> SyncResult:
    """One pass in then out, recorded as a sync run (failed with its error, retried next run from the cursor).
    Holds the provider's advisory lock: a second pass while one runs raises ChannelBusy and records nothing.
    A rate limit asking for a longer wait than one pass may take stops the pass cleanly (said in the record)."""
    from core.channels import service
    from core.channels.models import SyncRun
    from core.db import session_scope

    provider = build(name)
    result = SyncResult(provider=name)
    try:
        with service.channel_lock(name):
            with session_scope() as s:
                run_id = service.start_run(session=s, provider=name).id
            try:
                provider.sync_in(result=result)
                provider.sync_out(result=result)
            except RateLimited as exc:
                result.stopped = str(exc)
            except ProviderError as exc:
                result.error = str(exc)
            except Exception as exc:  # a bug or bad payload: recorded on the page, retried next run
                log.exception("sync %s failed", name)
                result.error = f"{type(exc).__name__}: {exc}"
            finally:
                if provider.http is not None:
                    result.rate_limited = provider.http.rate_limited
                with session_scope() as s:
                    result.held = len(service.held(session=s, provider=name))
                    service.finish_run(session=s, run=s.get(SyncRun, run_id), counts=result.counts(),
                                       error=result.error)
    except service.ChannelBusy as exc:
        raise ProviderBusy(str(exc)) from exc
    finally:
        provider.close()
    return result


def check(name: str) -> str:
    """Test the provider's connection with the stored settings and the environment's token."""
    provider = build(name)
    try:
        return provider.check()
    finally:
        provider.close()


__all__ = ["PROVIDERS", "Provider", "ProviderBusy", "ProviderError", "RateLimited", "SyncResult", "build", "check",
           "run_sync"]
