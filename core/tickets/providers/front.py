"""Front: conversations with their messages and comments in; category/priority/assignee and comments out."""

from __future__ import annotations

import json
import time

from core.channels import service
from core.channels.models import LinkKind
from core.tickets.providers.base import Http, Provider, ProviderError, RemoteComment, RemoteTicket, SyncResult, ts
from core.db import session_scope
from core.tickets.enums import TicketStatus

STATUS_CATEGORY_IN = {"open": TicketStatus.OPEN, "waiting": TicketStatus.PENDING, "resolved": TicketStatus.SOLVED}
STATUS_IN = {"archived": TicketStatus.SOLVED, "deleted": TicketStatus.CLOSED, "assigned": TicketStatus.OPEN,
             "unassigned": TicketStatus.OPEN}
MAX_PAGES = 100


class FrontProvider(Provider):
    name = "front"

    def __init__(self, *, config: dict, token: str | None, http: Http | None = None, timeout: float = 10.0):
        if not token:
            raise ProviderError("Front needs FRONT_API_TOKEN in the environment")
        base = config.get("base_url") or "https://api2.frontapp.com"
        http = http or Http(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
        super().__init__(config=config, token=token, http=http)

    def check(self) -> str:
        me = self.http.request("GET", "/me")
        return f"connected to {self.http.base_url} ({me.get('name') or me.get('id') or 'token accepted'})"

    # ------------------------------------------------------------ in

    def sync_in(self, *, result: SyncResult) -> None:
        with session_scope() as s:
            state = json.loads(service.get_cursor(session=s, provider=self.name, direction="in") or "{}")
        self.retry_held(result=result)
        started = time.time()
        url, params = (state["next"], None) if state.get("next") else ("/conversations", {"limit": 50})
        since = state.get("since")
        for _ in range(MAX_PAGES):
            page = self.http.request("GET", url, params=params)
            convs = page.get("_results") or []
            nxt = (page.get("_pagination") or {}).get("next")
            all_unchanged = True
            with session_scope() as s:
                for conv in convs:
                    fp = self._fingerprint(conv)
                    tid = service.local_id(session=s, provider=self.name, kind=LinkKind.TICKET, remote_id=conv["id"])
                    if tid is None or self._stored_fingerprint(s, conv["id"]) != fp:
                        all_unchanged = False
                    self.apply(session=s, remote=self._remote(conv), result=result)
                # The page and the place to resume from commit together.
                service.set_cursor(session=s, provider=self.name, direction="in",
                                   cursor=json.dumps({"next": nxt, "since": since}))
            # Conversations come most recently active first: a page with nothing new means the rest is old.
            if not nxt or (since is not None and all_unchanged):
                break
            url, params = nxt, None
        with session_scope() as s:
            service.set_cursor(session=s, provider=self.name, direction="in",
                               cursor=json.dumps({"next": None, "since": started}))

    @staticmethod
    def _fingerprint(conv: dict) -> str:
        tags = sorted(t.get("id", "") for t in conv.get("tags") or [])
        return json.dumps([conv.get("status"), conv.get("status_category"), (conv.get("assignee") or {}).get("id"),
                           tags, conv.get("waiting_since")])

    def _stored_fingerprint(self, session, conv_id: str) -> str | None:
        from sqlalchemy import select

        from core.channels.models import ProviderLink

        data = session.scalar(select(ProviderLink.data).where(
            ProviderLink.provider == self.name, ProviderLink.kind == LinkKind.TICKET, ProviderLink.remote_id == conv_id))
        return (data or {}).get("fingerprint")

    def _pages(self, url: str) -> list[dict]:
        out, params = [], {"limit": 100}
        for _ in range(50):
            page = self.http.request("GET", url, params=params)
            out += page.get("_results") or []
            url, params = (page.get("_pagination") or {}).get("next"), None
            if not url:
                break
        return out

    def fetch(self, remote_id: str) -> RemoteTicket | None:
        try:
            conv = self.http.request("GET", f"/conversations/{remote_id}")
        except ProviderError as exc:
            if "HTTP 404" in str(exc):
                return None
            raise
        return self._remote(conv) if conv.get("id") else None

    def _remote(self, conv: dict) -> RemoteTicket:
        cid = conv["id"]
        recipient = (conv.get("recipient") or {}).get("handle") or ""
        requester = recipient.lower() if "@" in recipient else None
        messages = sorted(self._pages(f"/conversations/{cid}/messages"), key=lambda m: m.get("created_at") or 0)
        comments = self._pages(f"/conversations/{cid}/comments")
        first = next((m for m in messages if m.get("is_inbound")), None)
        out: list[RemoteComment] = []
        for m in messages:
            sender = next((r.get("handle") for r in m.get("recipients") or [] if r.get("role") == "from"), None)
            author = m.get("author") or {}
            out.append(RemoteComment(
                id=m["id"], body=m.get("text") or m.get("blurb") or "", public=True,
                author_email=((sender if m.get("is_inbound") else author.get("email")) or "").lower() or None,
                from_requester=bool(m.get("is_inbound")), created_at=ts(m.get("created_at")),
                author_remote_id=author.get("id")))
        for c in comments:
            author = c.get("author") or {}
            out.append(RemoteComment(id=c["id"], body=c.get("body") or "", public=False,
                                     author_email=(author.get("email") or "").lower() or None, from_requester=False,
                                     created_at=ts(c.get("posted_at")), author_remote_id=author.get("id")))
        status = STATUS_CATEGORY_IN.get(conv.get("status_category")) or STATUS_IN.get(conv.get("status"), TicketStatus.OPEN)
        assignee = conv.get("assignee") or {}
        return RemoteTicket(
            id=cid, subject=conv.get("subject") or "", description=(first or {}).get("text") or conv.get("subject") or "",
            status=status, requester_email=requester, requester_name=(conv.get("recipient") or {}).get("name"),
            assignee_email=(assignee.get("email") or "").lower() or None,
            assignee_remote_id=assignee.get("id"), created_at=ts(conv.get("created_at")), comments=out,
            description_comment_id=(first or {}).get("id"),
            data={"fingerprint": self._fingerprint(conv), "tags": [t.get("name") for t in conv.get("tags") or []]})

    # ------------------------------------------------------------ out

    def push_ticket(self, *, session, ticket, remote_id: str, data: dict) -> None:
        body = {"custom_fields": {self.config.get("category_field") or "Category": ticket.category,
                                  self.config.get("priority_field") or "Priority": ticket.priority}}
        # The status goes out too, or the echo of this update would bring the old remote status back.
        body["status"] = "archived" if ticket.status in (TicketStatus.SOLVED, TicketStatus.CLOSED) else "open"
        teammate = self.remote_user(session=session, user_id=ticket.assignee_id)
        if teammate:
            body["assignee_id"] = teammate
        self.http.request("PATCH", f"/conversations/{remote_id}", json=body)

    def push_note(self, *, session, note, remote_id: str) -> str:
        payload = {"body": note.body or ""}
        author = self.remote_user(session=session, user_id=note.actor_user_id)
        if author:
            payload["author_id"] = author
        answer = self.http.request("POST", f"/conversations/{remote_id}/comments", json=payload)
        return answer.get("id") or f"note-{note.id}"
