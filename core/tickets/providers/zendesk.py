"""Zendesk Support: incremental ticket export in (cursor based), ticket updates and private notes out."""

from __future__ import annotations

from core.channels import service
from core.tickets.providers.base import Http, Provider, ProviderError, RemoteComment, RemoteTicket, SyncResult, ts
from core.db import session_scope
from core.tickets.enums import Priority, TicketStatus

STATUS_IN = {"new": TicketStatus.NEW, "open": TicketStatus.OPEN, "pending": TicketStatus.PENDING,
             "hold": TicketStatus.ON_HOLD, "solved": TicketStatus.SOLVED, "closed": TicketStatus.CLOSED}
PRIORITY_OUT = {Priority.HIGH: "high", Priority.MEDIUM: "normal", Priority.LOW: "low"}
# Zendesk does not let the API close a ticket or make it new again: closed goes out as solved, new not at all.
STATUS_OUT = {TicketStatus.OPEN: "open", TicketStatus.PENDING: "pending", TicketStatus.ON_HOLD: "hold",
              TicketStatus.SOLVED: "solved", TicketStatus.CLOSED: "solved"}
EXPORT = "/api/v2/incremental/tickets/cursor.json"
MAX_PAGES = 200  # per pass; the cursor carries on next time


class ZendeskProvider(Provider):
    name = "zendesk"

    def __init__(self, *, config: dict, token: str | None, http: Http | None = None, timeout: float = 10.0):
        if not config.get("base_url"):
            raise ProviderError("Zendesk is not configured: set its base URL (https://<subdomain>.zendesk.com) "
                                "on the settings page")
        if not token or not config.get("email"):
            raise ProviderError("Zendesk needs ZENDESK_API_TOKEN in the environment and the agent e-mail in settings")
        http = http or Http(base_url=config["base_url"], auth=(f"{config['email']}/token", token), timeout=timeout)
        super().__init__(config=config, token=token, http=http)

    def check(self) -> str:
        me = self.http.request("GET", "/api/v2/users/me.json").get("user") or {}
        return f"connected to {self.http.base_url} as {me.get('email') or me.get('name') or 'unknown user'}"

    # ------------------------------------------------------------ in

    def sync_in(self, *, result: SyncResult) -> None:
        with session_scope() as s:
            cursor = service.get_cursor(session=s, provider=self.name, direction="in")
        self.retry_held(result=result)
        params = {"cursor": cursor} if cursor else {"start_time": int(self.config.get("start_time") or 0)}
        for _ in range(MAX_PAGES):
            page = self.http.request("GET", EXPORT, params={**params, "include": "users"})
            users = {u["id"]: u for u in page.get("users") or []}
            remotes = [self._remote(t, users) for t in page.get("tickets") or [] if t.get("status") != "deleted"]
            # One transaction per page: its tickets and the cursor after it commit together.
            with session_scope() as s:
                for remote in remotes:
                    self.apply(session=s, remote=remote, result=result)
                if page.get("after_cursor"):
                    service.set_cursor(session=s, provider=self.name, direction="in", cursor=page["after_cursor"])
            if page.get("end_of_stream", True) or not page.get("after_cursor"):
                break
            params = {"cursor": page["after_cursor"]}

    def fetch(self, remote_id: str) -> RemoteTicket | None:
        try:
            page = self.http.request("GET", f"/api/v2/tickets/{remote_id}.json", params={"include": "users"})
        except ProviderError as exc:
            if "HTTP 404" in str(exc):
                return None
            raise
        t = page.get("ticket")
        if not t or t.get("status") == "deleted":
            return None
        return self._remote(t, {u["id"]: u for u in page.get("users") or []})

    def _remote(self, t: dict, users: dict) -> RemoteTicket:
        comments, first = self._comments(t["id"], users, t.get("requester_id"))
        requester = users.get(t.get("requester_id")) or {}
        assignee = users.get(t.get("assignee_id")) or {}
        return RemoteTicket(
            id=str(t["id"]), subject=t.get("subject") or t.get("raw_subject") or "",
            description=t.get("description") or (first.body if first else ""),
            status=STATUS_IN.get(t.get("status"), TicketStatus.OPEN),
            requester_email=(requester.get("email") or "").lower() or None, requester_name=requester.get("name"),
            assignee_email=(assignee.get("email") or "").lower() or None,
            assignee_remote_id=str(t["assignee_id"]) if t.get("assignee_id") else None,
            created_at=ts(t.get("created_at")), comments=comments,
            description_comment_id=first.id if first else None,
            data={"tags": t.get("tags") or [], "updated_at": t.get("updated_at")},
        )

    def _comments(self, ticket_id, users: dict, requester_id) -> tuple[list[RemoteComment], RemoteComment | None]:
        out: list[RemoteComment] = []
        url = f"/api/v2/tickets/{ticket_id}/comments.json"
        params = {"include": "users"}
        for _ in range(50):
            page = self.http.request("GET", url, params=params)
            users.update({u["id"]: u for u in page.get("users") or []})
            for c in page.get("comments") or []:
                author = users.get(c.get("author_id")) or {}
                out.append(RemoteComment(
                    id=str(c["id"]), body=c.get("plain_body") or c.get("body") or "", public=bool(c.get("public", True)),
                    author_email=(author.get("email") or "").lower() or None,
                    from_requester=c.get("author_id") == requester_id, created_at=ts(c.get("created_at")),
                    author_remote_id=str(c.get("author_id")) if c.get("author_id") else None))
            url, params = page.get("next_page"), None
            if not url:
                break
        return out, (out[0] if out else None)

    # ------------------------------------------------------------ out

    def push_ticket(self, *, session, ticket, remote_id: str, data: dict) -> None:
        self.http.request("PUT", f"/api/v2/tickets/{remote_id}.json", json={"ticket": self._fields(session, ticket, data)})

    def push_note(self, *, session, note, remote_id: str) -> str:
        answer = self.http.request("PUT", f"/api/v2/tickets/{remote_id}.json", json={"ticket": {
            "comment": {"body": note.body or "", "public": False}}})
        return next((str(e["id"]) for e in (answer.get("audit") or {}).get("events") or []
                     if e.get("type") == "Comment"), f"note-{note.id}")

    def _fields(self, session, t, data: dict) -> dict:
        prefix = self.config.get("tag_prefix") or "aftercare_"
        tags = [tag for tag in data.get("tags") or [] if not tag.startswith(prefix)]
        fields = {"priority": PRIORITY_OUT.get(Priority(t.priority), "normal"),
                  "tags": tags + [f"{prefix}{t.category}"]}
        # The status goes out too, or the echo of this update would bring the old remote status back in.
        if TicketStatus(t.status) in STATUS_OUT:
            fields["status"] = STATUS_OUT[TicketStatus(t.status)]
        if self.config.get("category_field_id"):
            try:
                fields["custom_fields"] = [{"id": int(self.config["category_field_id"]), "value": t.category}]
            except ValueError:
                raise ProviderError("the Zendesk category field id must be a number") from None
        agent = self.remote_user(session=session, user_id=t.assignee_id)
        if agent is not None:
            fields["assignee_id"] = int(agent) if agent.isdigit() else agent
        return fields
