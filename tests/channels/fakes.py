"""Small local Zendesk and Front API servers (http.server in a thread) with the public payload shapes,
cursor/link pagination, 429 with Retry-After, and a request log."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class FakeAPI:
    """Base: routes requests to `handle(method, path, query, body)`; records every request."""

    def __init__(self):
        self.requests: list[tuple[str, str, dict, dict | None]] = []
        self.throttle = 0          # answer this many next requests with 429 Retry-After: <retry_after>
        self.retry_after = "1"
        self.fail_paths: dict[str, int] = {}   # path prefix -> HTTP status to answer with
        # (method, path prefix) -> (n, status): answer the n-th such call with status (429 with Retry-After)
        self.fail_on: dict[tuple[str, str], tuple[int, int]] = {}
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                u = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                query = {k: v[0] for k, v in parse_qs(u.query).items()}
                with api.lock:
                    api.requests.append((self.command, u.path, query, body))
                    if api.throttle > 0:
                        api.throttle -= 1
                        return self._send(429, {"error": "APIRateLimitExceeded"}, {"Retry-After": api.retry_after})
                    for prefix, status in api.fail_paths.items():
                        if u.path.startswith(prefix):
                            return self._send(status, {"error": "boom"})
                    for (method, prefix), (n, status) in list(api.fail_on.items()):
                        if self.command == method and u.path.startswith(prefix):
                            api.fail_on[(method, prefix)] = (n - 1, status)
                            if n == 1:
                                return self._send(status, {"error": "boom"},
                                                  {"Retry-After": api.retry_after} if status == 429 else None)
                    if not api.authorized(self.headers):
                        return self._send(401, {"error": "Couldn't authenticate you"})
                    status, payload = api.handle(self.command, u.path, query, body)
                self._send(status, payload)

            def _send(self, status, payload, headers=None):
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if data:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_PATCH = _serve

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def authorized(self, headers) -> bool:
        return True

    def handle(self, method, path, query, body):
        return 404, {"error": "not found"}

    def calls(self, method: str, prefix: str = "") -> list:
        return [r for r in self.requests if r[0] == method and r[1].startswith(prefix)]


class FakeZendesk(FakeAPI):
    """Zendesk Support: incremental cursor export, ticket comments, ticket update, users/me."""

    PAGE = 2

    def __init__(self):
        super().__init__()
        self.users: dict[int, dict] = {}
        self.tickets: dict[int, dict] = {}
        self.comments: dict[int, list[dict]] = {}
        self.seq = 0
        self.next_comment = 9000

    def authorized(self, headers) -> bool:
        return (headers.get("Authorization") or "").startswith("Basic ")

    def add_user(self, uid: int, email: str, name: str, role: str = "end-user"):
        self.users[uid] = {"id": uid, "email": email, "name": name, "role": role}

    def add_ticket(self, tid: int, *, subject: str, description: str, requester_id: int, status: str = "open",
                   assignee_id: int | None = None, tags: list | None = None):
        self.seq += 1
        self.tickets[tid] = {"id": tid, "url": f"{self.url}/api/v2/tickets/{tid}.json", "subject": subject,
                             "raw_subject": subject, "description": description, "status": status,
                             "priority": "normal", "requester_id": requester_id, "submitter_id": requester_id,
                             "assignee_id": assignee_id, "tags": tags or [], "custom_fields": [],
                             "created_at": "2026-11-20T10:00:00Z", "updated_at": f"2026-11-20T10:{self.seq:02d}:00Z",
                             "via": {"channel": "email"}, "generated_timestamp": self.seq, "_seq": self.seq}
        self.comments[tid] = []
        self.add_comment(tid, author_id=requester_id, body=description, bump=False)

    def add_comment(self, tid: int, *, author_id: int, body: str, public: bool = True, bump: bool = True) -> int:
        self.next_comment += 1
        self.comments[tid].append({"id": self.next_comment, "type": "Comment", "author_id": author_id, "body": body,
                                   "html_body": f"<p>{body}</p>", "plain_body": body, "public": public,
                                   "attachments": [], "created_at": "2026-11-20T11:00:00Z"})
        if bump:
            # like Zendesk: an end user's comment puts a pending ticket back to open
            reopen = {"status": "open"} if self.users.get(author_id, {}).get("role") == "end-user" \
                and self.tickets[tid]["status"] == "pending" else {}
            self.touch(tid, **reopen)
        return self.next_comment

    def touch(self, tid: int, **changes):
        self.seq += 1
        self.tickets[tid].update(changes, _seq=self.seq, generated_timestamp=self.seq,
                                 updated_at=f"2026-11-20T12:{self.seq:02d}:00Z")

    def handle(self, method, path, query, body):
        if path == "/api/v2/users/me.json":
            return 200, {"user": {"id": 1, "email": "sync@aftercare.example", "name": "Sync"}}
        if method == "GET" and path == "/api/v2/incremental/tickets/cursor.json":
            after = int(query["cursor"]) if "cursor" in query else 0
            rows = sorted((t for t in self.tickets.values() if t["_seq"] > after), key=lambda t: t["_seq"])
            page = rows[:self.PAGE]
            last = page[-1]["_seq"] if page else after
            out = [{k: v for k, v in t.items() if k != "_seq"} for t in page]
            users = [self.users[i] for i in {t["requester_id"] for t in page} | {t["assignee_id"] for t in page}
                     if i in self.users]
            return 200, {"tickets": out, "users": users, "after_cursor": str(last),
                         "after_url": f"{self.url}{path}?cursor={last}", "before_cursor": None, "before_url": None,
                         "end_of_stream": len(rows) <= self.PAGE}
        parts = path.strip("/").split("/")
        if method == "GET" and len(parts) == 4 and parts[2] == "tickets" and parts[3].endswith(".json"):
            t = self.tickets.get(int(parts[3][:-5]))
            if t is None:
                return 404, {"error": "RecordNotFound"}
            users = [self.users[i] for i in (t["requester_id"], t["assignee_id"]) if i in self.users]
            return 200, {"ticket": {k: v for k, v in t.items() if k != "_seq"}, "users": users}
        if method == "GET" and len(parts) == 5 and parts[3].isdigit() and parts[4] == "comments.json":
            tid, page = int(parts[3]), int(query.get("page", 1))
            rows = self.comments.get(tid, [])
            chunk = rows[(page - 1) * self.PAGE: page * self.PAGE]
            more = len(rows) > page * self.PAGE
            authors = {c["author_id"] for c in chunk}
            return 200, {"comments": chunk, "users": [self.users[a] for a in authors if a in self.users],
                         "next_page": f"{self.url}{path}?page={page + 1}" if more else None,
                         "previous_page": None, "count": len(rows)}
        if method == "PUT" and len(parts) == 4 and parts[3].endswith(".json"):
            tid = int(parts[3][:-5])
            if tid not in self.tickets:
                return 404, {"error": "RecordNotFound"}
            upd = dict(body["ticket"])
            comment = upd.pop("comment", None)
            events = []
            if comment:
                cid = self.add_comment(tid, author_id=1, body=comment["body"], public=comment.get("public", True))
                events.append({"id": cid, "type": "Comment", "body": comment["body"], "public": comment.get("public")})
            self.touch(tid, **upd)
            return 200, {"ticket": {k: v for k, v in self.tickets[tid].items() if k != "_seq"},
                         "audit": {"id": 5000 + self.seq, "ticket_id": tid, "events": events}}
        return 404, {"error": "InvalidEndpoint"}


class FakeFront(FakeAPI):
    """Front Core API: conversations (link pagination), messages, comments, PATCH conversation, POST comment."""

    PAGE = 2

    def __init__(self):
        super().__init__()
        self.conversations: dict[str, dict] = {}
        self.messages: dict[str, list[dict]] = {}
        self.comments: dict[str, list[dict]] = {}
        self.activity: dict[str, float] = {}
        self.clock = 1_763_600_000.0
        self.n = 0

    def authorized(self, headers) -> bool:
        return (headers.get("Authorization") or "") == "Bearer front-token"

    def _tick(self) -> float:
        self.clock += 60
        return self.clock

    def add_conversation(self, cid: str, *, subject: str, requester: str, text: str, assignee: dict | None = None,
                         status: str = "unassigned"):
        at = self._tick()
        self.conversations[cid] = {
            "_links": {"self": f"{self.url}/conversations/{cid}"}, "id": cid, "subject": subject, "status": status,
            "assignee": assignee, "recipient": {"handle": requester, "role": "from"}, "tags": [], "links": [],
            "custom_fields": {}, "created_at": at, "waiting_since": at, "is_private": False}
        self.messages[cid], self.comments[cid] = [], []
        self.add_message(cid, inbound=True, handle=requester, text=text)

    def add_message(self, cid: str, *, inbound: bool, text: str, handle: str | None = None, author: dict | None = None):
        self.n += 1
        at = self._tick()
        self.messages[cid].append({
            "_links": {"self": f"{self.url}/messages/msg_{self.n}"}, "id": f"msg_{self.n}", "type": "email",
            "is_inbound": inbound, "created_at": at, "blurb": text[:50], "body": f"<p>{text}</p>", "text": text,
            "author": author, "recipients": [{"handle": handle or "support@company.example", "role": "from"}]})
        self.activity[cid] = at
        if inbound:
            self.conversations[cid]["waiting_since"] = at

    def add_comment(self, cid: str, *, body: str, author: dict) -> str:
        self.n += 1
        com = {"_links": {"self": f"{self.url}/comments/com_{self.n}"}, "id": f"com_{self.n}", "author": author,
               "body": body, "posted_at": self._tick()}
        self.comments[cid].append(com)
        self.activity[cid] = com["posted_at"]
        return com["id"]

    def _list(self, rows: list, path: str, query: dict) -> dict:
        start = int(query.get("page_token", 0))
        chunk = rows[start:start + self.PAGE]
        nxt = f"{self.url}{path}?page_token={start + self.PAGE}" if start + self.PAGE < len(rows) else None
        return {"_pagination": {"next": nxt}, "_links": {"self": f"{self.url}{path}"}, "_results": chunk}

    def handle(self, method, path, query, body):
        if path == "/me":
            return 200, {"_links": {"self": f"{self.url}/me"}, "id": "cmp_1", "name": "Planet Express"}
        parts = path.strip("/").split("/")
        if method == "GET" and path == "/conversations":
            order = sorted(self.conversations, key=lambda c: self.activity[c], reverse=True)
            return 200, self._list([self.conversations[c] for c in order], path, query)
        if len(parts) >= 2 and parts[0] == "conversations" and parts[1] not in self.conversations:
            return 404, {"_error": {"status": 404, "title": "Not found"}}
        if method == "GET" and len(parts) == 2:
            return 200, self.conversations[parts[1]]
        if method == "GET" and len(parts) == 3 and parts[2] == "messages":
            return 200, self._list(list(reversed(self.messages[parts[1]])), path, query)
        if method == "GET" and len(parts) == 3 and parts[2] == "comments":
            return 200, self._list(self.comments[parts[1]], path, query)
        if method == "PATCH" and len(parts) == 2:
            conv = self.conversations[parts[1]]
            conv["custom_fields"].update(body.get("custom_fields") or {})
            if body.get("status") in ("archived", "open"):
                conv["status"] = body["status"] if body["status"] == "archived" else \
                    ("assigned" if conv.get("assignee") else "unassigned")
            if "assignee_id" in body:
                conv["assignee"] = {"id": body["assignee_id"]}
            return 204, None
        if method == "POST" and len(parts) == 3 and parts[2] == "comments":
            cid = self.add_comment(parts[1], body=body["body"], author={"id": body.get("author_id")})
            return 201, next(c for c in self.comments[parts[1]] if c["id"] == cid)
        return 404, {"_error": {"status": 404}}
