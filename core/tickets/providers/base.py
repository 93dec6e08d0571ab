"""The one helpdesk-provider interface, its HTTP client (bounded 429 waits) and the shared sync-in logic."""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.accounts.models import Contact
from core.auth.models import User
from core.channels import service
from core.channels.models import LinkKind
from core.tickets.enums import Channel, EventKind, TicketStatus
from core.tickets.intake import DESCRIPTION_MAX, SUBJECT_MAX, IntakeError
from core.tickets.models import Ticket, TicketEvent

log = logging.getLogger(__name__)

# A provider's Retry-After is always waited out in full. One pass waits at most this long in all; a server asking
# for more stops the pass cleanly (RateLimited) and the next run resumes from the stored cursor.
MAX_PASS_WAIT = 120.0


class ProviderError(RuntimeError):
    """The provider is not configured, not reachable, or answered with an error."""


class ProviderBusy(ProviderError):
    """Another pass of this provider is running: this one did not start."""


class RateLimited(ProviderError):
    """The provider asked for a longer wait than one pass may take: the pass stops and resumes next run."""


# ---------------------------------------------------------------- HTTP

class Http:
    """JSON over HTTP with a timeout, and 429/503 answered by waiting Retry-After (bounded)."""

    def __init__(self, *, base_url: str, headers: dict | None = None, auth=None, timeout: float = 10.0,
                 sleep=time.sleep, max_wait: float = MAX_PASS_WAIT):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", **(headers or {})})
        self.session.auth = auth
        self.timeout = timeout
        self.sleep = sleep
        self.waited = 0.0
        self.max_wait = max_wait
        self.rate_limited = 0

    def url(self, path_or_url: str) -> str:
        return path_or_url if path_or_url.startswith(("http://", "https://")) else self.base_url + path_or_url

    def request(self, method: str, path_or_url: str, *, params: dict | None = None, json: dict | None = None) -> dict:
        url = self.url(path_or_url)
        while True:
            try:
                r = self.session.request(method, url, params=params, json=json, timeout=self.timeout)
            except requests.RequestException as exc:
                raise ProviderError(f"{method} {url}: {exc}") from exc
            if r.status_code in (429, 503) and "Retry-After" in r.headers:
                wait = retry_after(r.headers["Retry-After"])
                self.rate_limited += 1
                if self.waited + wait > self.max_wait:
                    raise RateLimited(
                        f"rate limited: {method} {url} asked to wait {wait:.0f}s (this pass already waited "
                        f"{self.waited:.0f}s, at most {self.max_wait:.0f}s per pass); the pass stopped and the next "
                        "run resumes from the stored cursor")
                log.info("rate limited by %s: waiting %.1fs", url, wait)
                self.sleep(wait)
                self.waited += wait
                continue
            if r.status_code >= 400:
                raise ProviderError(f"{method} {url}: HTTP {r.status_code}: {r.text[:300]}")
            if not r.content:
                return {}
            try:
                return r.json()
            except ValueError as exc:
                raise ProviderError(f"{method} {url}: not JSON: {r.text[:200]}") from exc

    def close(self) -> None:
        self.session.close()


def retry_after(value: str) -> float:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date (1 s when unreadable)."""
    from email.utils import parsedate_to_datetime

    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return 1.0


# ---------------------------------------------------------------- normalised records

@dataclass
class RemoteComment:
    id: str
    body: str
    public: bool
    author_email: str | None
    from_requester: bool
    created_at: datetime | None = None
    author_remote_id: str | None = None


@dataclass
class RemoteTicket:
    id: str
    subject: str
    description: str
    status: TicketStatus
    requester_email: str | None
    requester_name: str | None = None
    assignee_email: str | None = None
    assignee_remote_id: str | None = None
    created_at: datetime | None = None
    comments: list[RemoteComment] = field(default_factory=list)
    # comment ids already in the description (Zendesk's first comment is the description)
    description_comment_id: str | None = None
    data: dict = field(default_factory=dict)


@dataclass
class SyncResult:
    provider: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    comments: int = 0
    pushed: int = 0
    notes_pushed: int = 0
    rate_limited: int = 0
    unknown_requesters: int = 0
    held: int = 0
    skipped: Counter = field(default_factory=Counter)
    stopped: str | None = None
    error: str | None = None

    def counts(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "comments": self.comments, "pushed": self.pushed, "notes_pushed": self.notes_pushed,
                "rate_limited": self.rate_limited, "unknown_requesters": self.unknown_requesters,
                "held": self.held, "skipped": sum(self.skipped.values()),
                "reasons": dict(self.skipped), **({"stopped": self.stopped} if self.stopped else {})}

    def lines(self) -> list[str]:
        out = [f"sync {self.provider}",
               f"in: {self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
               f"{self.comments} comments",
               f"out: {self.pushed} tickets updated, {self.notes_pushed} internal notes",
               f"skipped: {sum(self.skipped.values())}"]
        out += [f"  {reason}: {n}" for reason, n in sorted(self.skipped.items())]
        if self.unknown_requesters:
            out.append(f"tickets from unknown requesters (filed under the intake account): {self.unknown_requesters}")
        if self.held:
            out.append(f"held for retry on the next pass: {self.held}")
        if self.rate_limited:
            out.append(f"rate limited: {self.rate_limited} time(s), waited as asked")
        if self.stopped:
            out.append(f"stopped early: {self.stopped}")
        if self.error:
            out.append(f"error: {self.error}")
        return out


def ts(value) -> datetime | None:
    """A provider timestamp (ISO 8601 or epoch seconds) as an aware datetime."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


# ---------------------------------------------------------------- the interface

class Provider(ABC):
    """A helpdesk Aftercare stays in step with: `sync_in` pulls changes, `sync_out` pushes ours."""

    name: str = ""

    def __init__(self, *, config: dict, token: str | None, http: Http | None = None):
        self.config = config
        self.token = token
        self.http = http

    @abstractmethod
    def check(self) -> str:
        """Reach the provider with the configured credentials; a line saying so, or ProviderError."""

    @abstractmethod
    def sync_in(self, *, result: SyncResult) -> None:
        """Pull new and changed tickets with their comments (commits per page; resumes from the cursor)."""

    def close(self) -> None:
        if self.http is not None:
            self.http.close()

    # ------------------------------------------------------------ shared sync-in

    def fetch(self, remote_id: str) -> RemoteTicket | None:
        """One remote ticket by id, for a held ticket's retry (None when it is gone)."""
        return None

    def retry_held(self, *, result: SyncResult) -> None:
        """Try the tickets earlier passes could not import (each in its own transaction)."""
        from core.db import session_scope

        with session_scope() as s:
            ids = list(service.held(session=s, provider=self.name))
        for rid in ids:
            remote = self.fetch(rid)
            with session_scope() as s:
                if remote is None:
                    service.hold(session=s, provider=self.name, remote_id=rid, reason=None)
                else:
                    self.apply(session=s, remote=remote, result=result)

    def apply(self, *, session: Session, remote: RemoteTicket, result: SyncResult) -> Ticket | None:
        """Create or update the local ticket for a remote one, with its new comments; idempotent. A requester
        nobody knows is filed under the intake account with a new contact; a ticket that cannot be imported
        (no requester e-mail, invalid) is held and tried again on every pass, so moving the cursor loses nothing."""
        from core.tickets.service import append_customer_reply, apply_external_change, create_ticket

        src = self.name
        tid = service.local_id(session=session, provider=src, kind=LinkKind.TICKET, remote_id=remote.id)
        assignee_id = self._local_user(session, remote.assignee_email, remote.assignee_remote_id)
        if tid is None:
            if not remote.requester_email:
                return self._hold(session, remote, result, "no requester e-mail")
            sender = service.resolve_sender(session=session, email=remote.requester_email, file_unknown=True)
            try:
                with session.begin_nested():
                    service.file_contact(session=session, sender=sender, name=remote.requester_name)
                    ticket = create_ticket(session=session, actor=f"sync:{src}", channel=Channel.IMPORT, data={
                        "subject": (remote.subject or "(no subject)")[:SUBJECT_MAX],
                        "description": (remote.description or remote.subject or "(no text)")[:DESCRIPTION_MAX],
                        "requester_email": remote.requester_email, "account": sender.account_key,
                        "external_id": f"{src}:{remote.id}"[:120], "created_at": remote.created_at,
                        "status": remote.status})
            except IntakeError as exc:
                log.warning("%s ticket %s not imported: %s", src, remote.id, exc)
                return self._hold(session, remote, result, f"invalid: {exc}")
            service.hold(session=session, provider=src, remote_id=remote.id, reason=None)
            if sender.unknown:
                result.unknown_requesters += 1
            link_row = service.link(session=session, provider=src, kind=LinkKind.TICKET, local_id=ticket.id,
                                    remote_id=remote.id, data=remote.data)
            if assignee_id is not None:
                apply_external_change(session=session, ticket=ticket, source=src, assignee_id=assignee_id)
            result.created += 1
            changed = True
        else:
            ticket = session.get(Ticket, tid, with_for_update=True)
            link_row = self._ticket_link(session, remote.id)
            changed = False
            # A ticket changed here since both sides last agreed keeps its own status and assignee: they go
            # out next, and the provider's older values must not undo them first.
            local_pending = ticket.version != (link_row.data or {}).get("synced_version")
            if remote.status != ticket.status or (assignee_id is not None and assignee_id != ticket.assignee_id):
                if ticket.status != TicketStatus.CLOSED and not local_pending:
                    apply_external_change(session=session, ticket=ticket, source=src, status=remote.status,
                                          assignee_id=assignee_id)
                    changed = True
        for c in remote.comments:
            if c.id == remote.description_comment_id:
                continue
            if any(service.local_id(session=session, provider=src, kind=k, remote_id=c.id) is not None
                   for k in (LinkKind.COMMENT, LinkKind.NOTE)):
                continue  # already synced in, or a note we pushed coming back
            body = (c.body or "").strip()[:DESCRIPTION_MAX] or "(empty)"
            data = {"source": src, "remote_id": c.id}
            if c.from_requester and c.public:
                contact = session.scalar(select(Contact).where(Contact.email == (c.author_email or "").lower()))
                ev = append_customer_reply(session=session, ticket=ticket, contact=contact, body=body, data=data)
            else:
                ev = apply_external_change(session=session, ticket=ticket, source=src, at=c.created_at,
                                           kind=EventKind.PUBLIC_REPLY if c.public else EventKind.INTERNAL_NOTE,
                                           public=c.public, body=body, data={"remote_id": c.id, "author": c.author_email})
            service.link(session=session, provider=src, kind=LinkKind.COMMENT, local_id=ev.id, remote_id=c.id)
            result.comments += 1
            changed = True
        session.flush()
        data = {**(link_row.data or {}), **remote.data}
        if tid is None or not local_pending:
            data["synced_version"] = ticket.version  # both sides agree on this version now
        link_row.data = data
        session.flush()
        if tid is not None:
            if changed:
                result.updated += 1
            else:
                result.unchanged += 1
        return ticket

    def _hold(self, session: Session, remote: RemoteTicket, result: SyncResult, reason: str) -> None:
        service.hold(session=session, provider=self.name, remote_id=remote.id, reason=reason)
        result.skipped[reason.split(":")[0] + " (held for retry)"] += 1
        return None

    def _ticket_link(self, session: Session, remote_id: str):
        from core.channels.models import ProviderLink

        return session.scalar(select(ProviderLink).where(ProviderLink.provider == self.name,
                                                         ProviderLink.kind == LinkKind.TICKET,
                                                         ProviderLink.remote_id == str(remote_id)))

    def mark_pushed(self, *, session: Session, ticket: Ticket, remote_id: str) -> None:
        """Remember that the provider now has this version of the ticket."""
        row = self._ticket_link(session, remote_id)
        row.data = {**(row.data or {}), "synced_version": ticket.version}
        session.flush()

    def _local_user(self, session: Session, email: str | None, remote_user_id: str | None) -> int | None:
        """The active staff user matching an agent (by link, else by e-mail, then linked for sync out)."""
        if remote_user_id:
            uid = service.local_id(session=session, provider=self.name, kind=LinkKind.USER, remote_id=remote_user_id)
            if uid is not None:
                return uid
        if not email:
            return None
        user = session.scalar(select(User).where(User.email == email.lower(), User.active.is_(True)))
        if user is None:
            return None
        if remote_user_id:
            service.link(session=session, provider=self.name, kind=LinkKind.USER, local_id=user.id,
                         remote_id=remote_user_id, data={"email": email.lower()})
        return user.id

    # ------------------------------------------------------------ shared sync-out

    @abstractmethod
    def push_ticket(self, *, session: Session, ticket: Ticket, remote_id: str, data: dict) -> None:
        """Send the ticket's category, priority, status and assignee to the provider."""

    @abstractmethod
    def push_note(self, *, session: Session, note: TicketEvent, remote_id: str) -> str:
        """Send one internal note as a private comment; the provider's id for it."""

    def sync_out(self, *, result: SyncResult) -> None:
        """Push changed tickets, then each unpushed note in its own transaction: a note's link commits right after
        the provider took it, so a later failure never sends it again."""
        from core.db import session_scope

        with session_scope() as s:
            stamp = datetime.now(timezone.utc)
            todo = [(t.id, rid, data) for t, rid, data in self.changed_links(session=s)]
        for ticket_id, rid, data in todo:
            with session_scope() as s:
                t = s.get(Ticket, ticket_id)
                self.push_ticket(session=s, ticket=t, remote_id=rid, data=data)
                result.pushed += 1
                self.mark_pushed(session=s, ticket=t, remote_id=rid)
                note_ids = [n.id for n in self.unpushed_notes(session=s, ticket_id=t.id)]
            for note_id in note_ids:
                with session_scope() as s:
                    note = s.get(TicketEvent, note_id)
                    remote_note = self.push_note(session=s, note=note, remote_id=rid)
                    service.link(session=s, provider=self.name, kind=LinkKind.NOTE, local_id=note.id,
                                 remote_id=remote_note)
                    result.notes_pushed += 1
        with session_scope() as s:
            service.set_cursor(session=s, provider=self.name, direction="out", cursor=stamp.isoformat())

    def changed_links(self, *, session: Session) -> list[tuple[Ticket, str, dict]]:
        """Linked tickets changed in Aftercare since both sides last agreed, or with notes not pushed yet."""
        from sqlalchemy import Integer, exists, or_

        from core.channels.models import ProviderLink

        synced = ProviderLink.data["synced_version"].astext.cast(Integer)
        pushed = select(ProviderLink.local_id).where(ProviderLink.provider == self.name,
                                                     ProviderLink.kind.in_([LinkKind.NOTE, LinkKind.COMMENT]))
        notes_waiting = exists().where(TicketEvent.ticket_id == Ticket.id, TicketEvent.kind == EventKind.INTERNAL_NOTE,
                                       TicketEvent.actor_user_id.is_not(None), TicketEvent.id.not_in(pushed))
        q = (select(Ticket, ProviderLink.remote_id, ProviderLink.data)
             .join(ProviderLink, (ProviderLink.local_id == Ticket.id) & (ProviderLink.provider == self.name)
                   & (ProviderLink.kind == LinkKind.TICKET))
             .where(or_(synced.is_(None), synced != Ticket.version, notes_waiting))
             .order_by(Ticket.id))
        return [(t, rid, data or {}) for t, rid, data in session.execute(q)]

    def unpushed_notes(self, *, session: Session, ticket_id: int) -> list[TicketEvent]:
        """Internal notes written in Aftercare (not synced in) that the provider has not received yet."""
        from core.channels.models import ProviderLink

        pushed = select(ProviderLink.local_id).where(ProviderLink.provider == self.name,
                                                     ProviderLink.kind.in_([LinkKind.NOTE, LinkKind.COMMENT]))
        return list(session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == EventKind.INTERNAL_NOTE,
                                      TicketEvent.actor_user_id.is_not(None), TicketEvent.id.not_in(pushed))
            .order_by(TicketEvent.id)))

    def remote_user(self, *, session: Session, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        return service.remote_id(session=session, provider=self.name, kind=LinkKind.USER, local_id=user_id)
