"""The native store: Aftercare itself is the helpdesk, so there is nothing to sync (the default)."""

from __future__ import annotations

from core.tickets.providers.base import Provider, ProviderError, SyncResult


class NativeProvider(Provider):
    name = "native"

    def __init__(self, *, config: dict | None = None, token: str | None = None, http=None):
        super().__init__(config=config or {}, token=token, http=None)

    def check(self) -> str:
        return "the native store needs no connection"

    def sync_in(self, *, result: SyncResult) -> None:
        return None

    def sync_out(self, *, result: SyncResult) -> None:
        return None

    # There is no remote helpdesk: sync_out above never pushes, and nothing else may.
    def push_ticket(self, *, session, ticket, remote_id: str, data: dict) -> None:
        raise ProviderError("the native store is Aftercare itself: there is no helpdesk to push tickets to")

    def push_note(self, *, session, note, remote_id: str) -> str:
        raise ProviderError("the native store is Aftercare itself: there is no helpdesk to push notes to")
