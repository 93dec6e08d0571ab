"""The support mailbox: poll IMAP, turn new mail into tickets and replies, flag what was imported.

Crash safety: a message is recorded in `channel_messages` (keyed by mailbox + Message-ID) in the same
transaction as its ticket or reply; the IMAP flag (\\Seen plus a custom keyword) is set after the commit.
A crash between the two leaves the message unflagged: the next pass finds it already recorded and only
flags it, so nothing is imported twice and nothing is lost.
"""

from __future__ import annotations

import hashlib
import imaplib
import logging
import re
import ssl
from collections import Counter
from contextvars import ContextVar
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr
from html.parser import HTMLParser
from urllib.parse import parse_qs, unquote, urlparse

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from core.accounts.models import Contact
from core.channels import service
from core.channels.models import Outcome, ProcessedMessage, Provider, TicketAttachment
from core.config import get_settings
from core.db import session_scope
from core.tickets.enums import Channel, TicketStatus
from core.tickets.intake import DESCRIPTION_MAX, SUBJECT_MAX, IntakeError
from core.tickets.models import Ticket

log = logging.getLogger(__name__)

REF_RE = re.compile(r"\[AC-(\d{1,12})\]", re.I)
MSGID_RE = re.compile(r"<[^<>\s]+>")
BOUNCE_SENDERS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
QUOTE_RE = re.compile(r"(?m)^(On .{0,300}wrote:\s*$|-{2,}\s*Original Message\s*-{2,}|_{10,}\s*$)")
# Message-IDs of the message being turned into a ticket, so its confirmation mail threads under it.
_PENDING_THREAD: ContextVar[list[str]] = ContextVar("pending_thread", default=[])


class MailboxError(RuntimeError):
    """The mailbox cannot be reached or is not configured."""


# ---------------------------------------------------------------- configuration

@dataclass(frozen=True)
class ImapParams:
    host: str
    port: int
    ssl: bool
    starttls: bool
    user: str
    password: str
    folder: str

    @property
    def name(self) -> str:
        """The mailbox's key: no password."""
        scheme = "imaps" if self.ssl else "imap"
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{self.folder}"


def imap_params(url: str, folder: str | None = None) -> ImapParams:
    """Parse IMAP_URL: imap://user:pass@host:port/FOLDER (?starttls=1) or imaps://..."""
    u = urlparse(url)
    if u.scheme not in ("imap", "imaps"):
        raise MailboxError(f"IMAP_URL must start with imap:// or imaps://, not {u.scheme!r}")
    if not u.username:
        raise MailboxError("IMAP_URL needs a user name: imap://user:password@host:port/INBOX")
    q = parse_qs(u.query)
    return ImapParams(
        host=u.hostname or "127.0.0.1", port=u.port or (993 if u.scheme == "imaps" else 143),
        ssl=u.scheme == "imaps", starttls=q.get("starttls", ["0"])[0] in ("1", "true", "yes"),
        user=unquote(u.username), password=unquote(u.password or ""),
        folder=folder or unquote(u.path.lstrip("/")) or "INBOX",
    )


def configured_params(session: Session) -> tuple[ImapParams, dict]:
    """The mailbox from IMAP_URL and the settings table, or MailboxError."""
    secret = get_settings().imap_url
    if not secret:
        raise MailboxError("IMAP_URL is not set")
    cfg = service.get_config(session=session, key="mailbox")
    return imap_params(secret.get_secret_value(), cfg.get("folder") or None), cfg


def connect(params: ImapParams) -> imaplib.IMAP4:
    """Log in and select the folder (read-write)."""
    timeout = get_settings().http_timeout_seconds * 3
    try:
        if params.ssl:
            conn = imaplib.IMAP4_SSL(params.host, params.port, ssl_context=ssl.create_default_context(), timeout=timeout)
        else:
            conn = imaplib.IMAP4(params.host, params.port, timeout=timeout)
            if params.starttls:
                conn.starttls(ssl.create_default_context())
        conn.login(params.user, params.password)
        typ, data = conn.select(_quote(params.folder))
        if typ != "OK":
            raise MailboxError(f"cannot open folder {params.folder!r}: {data[0].decode(errors='replace') if data else typ}")
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"cannot reach {params.name}: {exc}") from exc
    return conn


def test_connection(*, session: Session) -> str:
    """Connect, log in, open the folder and say how many messages wait; MailboxError otherwise."""
    params, cfg = configured_params(session)
    conn = connect(params)
    try:
        typ, data = conn.uid("SEARCH", None, "UNKEYWORD", cfg["keyword"])
        waiting = len(data[0].split()) if typ == "OK" and data and data[0] else 0
        return f"connected to {params.name}: {waiting} message(s) not imported yet"
    finally:
        _logout(conn)


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _logout(conn) -> None:
    try:
        conn.logout()
    except (OSError, imaplib.IMAP4.error):
        pass


# ---------------------------------------------------------------- parsing

@dataclass
class Parsed:
    message: EmailMessage
    message_id: str | None
    from_addr: str | None
    from_name: str
    subject: str
    body: str
    references: list[str]
    notes: list[str] = field(default_factory=list)


def _header(msg: EmailMessage, name: str) -> str | None:
    """A header as text; a header the parser chokes on is read raw rather than failing the message."""
    try:
        value = msg[name]
        return None if value is None else str(value)
    except Exception:  # malformed header: fall back to the raw value
        for key, value in msg.raw_items():
            if key.lower() == name.lower():
                return str(value)
    return None


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        if tag in ("br", "p", "div", "li", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Readable text from an HTML part (never rendered as HTML)."""
    p = _Text()
    p.feed(html)
    return re.sub(r"\n{3,}", "\n\n", "".join(p.parts)).strip()


def _part_text(part) -> tuple[str, str | None]:
    """The text of a part; an unknown or wrong charset falls back to UTF-8, then Latin-1, with a note."""
    try:
        return part.get_content(), None
    except (LookupError, UnicodeError, AssertionError, KeyError):
        raw = part.get_payload(decode=True) or b""
        cs = part.get_content_charset() or "unknown"
        try:
            return raw.decode("utf-8"), f"charset {cs!r} unknown: read as UTF-8"
        except UnicodeDecodeError:
            return raw.decode("latin-1"), f"charset {cs!r} unknown: read as Latin-1"


def parse(raw: bytes) -> Parsed:
    """Parse a message with the stdlib email package (policy.default); never raises on bad input."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    notes: list[str] = []
    mid = _header(msg, "Message-ID")
    mids = MSGID_RE.findall(mid or "")
    message_id = mids[0][:300] if mids else None
    name, addr = parseaddr(_header(msg, "From") or "")
    addr = addr.strip().lower()
    if "@" not in addr or " " in addr:
        addr = None
    subject = re.sub(r"\s+", " ", _header(msg, "Subject") or "").strip()
    refs = MSGID_RE.findall((_header(msg, "In-Reply-To") or "") + " " + (_header(msg, "References") or ""))
    body = ""
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
    except Exception as exc:  # broken MIME structure
        part = None
        notes.append(f"MIME structure unreadable: {exc}")
    if part is not None:
        text, note = _part_text(part)
        if note:
            notes.append(note)
        body = html_to_text(text) if part.get_content_type() == "text/html" else text
    elif not msg.is_multipart() and msg.get_content_maintype() == "text":
        body, note = _part_text(msg)
        if note:
            notes.append(note)
    body = body.replace("\r\n", "\n").strip()
    if msg.defects:
        notes.append("defects: " + ", ".join(sorted({type(d).__name__ for d in msg.defects})))
    return Parsed(msg, message_id, addr, name, subject, body, refs, notes)


def skip_reason(p: Parsed) -> str | None:
    """Why a message must not become a ticket (auto-reply, bounce, no sender), or None."""
    msg = p.message
    if p.from_addr is None:
        return "no sender"
    local = p.from_addr.split("@")[0]
    if local in BOUNCE_SENDERS:
        return f"bounce (from {p.from_addr})"
    if msg.get_content_type() == "multipart/report":
        return "bounce (delivery status report)"
    auto = (_header(msg, "Auto-Submitted") or "").strip().lower()
    if auto and auto != "no":
        return f"auto-reply (Auto-Submitted: {auto})"
    prec = (_header(msg, "Precedence") or "").strip().lower()
    if prec in ("bulk", "junk", "list"):
        return f"auto-reply (Precedence: {prec})"
    for name in ("X-Autoreply", "X-Autorespond"):
        if _header(msg, name) is not None:
            return f"auto-reply ({name})"
    own = parseaddr(get_settings().mail_from)[1].lower()
    if own and p.from_addr == own:
        return "own message (sent by Aftercare)"
    return None


def strip_quote(body: str) -> str:
    """The new text of a reply: cut at "On ... wrote:" and drop trailing quoted lines."""
    m = QUOTE_RE.search(body)
    text = body[:m.start()] if m else body
    lines = text.rstrip().split("\n")
    while lines and lines[-1].lstrip().startswith(">"):
        lines.pop()
    text = "\n".join(lines).strip()
    return text or body


# ---------------------------------------------------------------- threading

def find_thread(*, session: Session, parsed: Parsed) -> Ticket | None:
    """The ticket a message answers: [AC-n] in the subject, or In-Reply-To/References naming a message
    we sent (the outbox) or one we imported for a ticket."""
    from core.mail.models import OutboxMessage

    if parsed.references:
        ids = parsed.references[-50:]
        tid = session.scalar(select(OutboxMessage.ticket_id).where(
            OutboxMessage.message_id.in_(ids), OutboxMessage.ticket_id.is_not(None))
            .order_by(OutboxMessage.id.desc()).limit(1))
        if tid is None:
            tid = session.scalar(select(ProcessedMessage.ticket_id).where(
                ProcessedMessage.message_id.in_(ids), ProcessedMessage.ticket_id.is_not(None))
                .order_by(ProcessedMessage.id.desc()).limit(1))
        if tid is not None:
            return session.get(Ticket, tid)
    m = REF_RE.search(parsed.subject)
    if m:
        # A reference in the subject alone is easy to guess: only the ticket's own account may use it.
        ticket = session.get(Ticket, int(m.group(1)))
        if ticket is not None and parsed.from_addr and \
                service.may_use_reference(session=session, email=parsed.from_addr, ticket=ticket):
            return ticket
    return None


def ticket_message_ids(*, session: Session, ticket_id: int) -> list[tuple]:
    """(time, Message-ID) of the mail a ticket received, for the threading headers of our replies."""
    rows = [(r.processed_at, r.message_id) for r in session.scalars(
        select(ProcessedMessage).where(ProcessedMessage.ticket_id == ticket_id, ProcessedMessage.message_id.is_not(None))
        .order_by(ProcessedMessage.id))]
    pending = _PENDING_THREAD.get()
    if pending:
        from datetime import datetime, timezone

        rows += [(datetime.now(timezone.utc), mid) for mid in pending]
    return rows


# ---------------------------------------------------------------- import one message

def message_key(parsed: Parsed, uid: int | None, uidvalidity: int | None) -> str:
    return parsed.message_id or f"uid:{uidvalidity}:{uid}"


def import_message(*, session: Session, mailbox: str, raw: bytes, uid: int | None = None,
                   uidvalidity: int | None = None, config: dict | None = None) -> tuple[ProcessedMessage, bool]:
    """Record one message and make it a ticket, a reply or a skip; returns (record, was_new).
    An already-recorded message (same mailbox and Message-ID) is returned untouched."""
    cfg = config or service.get_config(session=session, key="mailbox")
    parsed = parse(raw)
    key = message_key(parsed, uid, uidvalidity)
    existing = session.scalar(select(ProcessedMessage).where(
        ProcessedMessage.mailbox == mailbox, ProcessedMessage.message_key == key))
    if existing is not None:
        return existing, False
    rec = ProcessedMessage(mailbox=mailbox, message_key=key[:300], message_id=parsed.message_id, uid=uid,
                           uidvalidity=uidvalidity, from_addr=(parsed.from_addr or "")[:254] or None,
                           subject=parsed.subject[:300] or None, size=len(raw), outcome=Outcome.SKIPPED)
    notes = list(parsed.notes)
    reason = skip_reason(parsed)
    if reason is None and not parsed.subject and not parsed.body:
        reason = "malformed (no subject and no readable text" + (f"; {'; '.join(notes)})" if notes else ")")
    if reason is None:
        ticket = find_thread(session=session, parsed=parsed)
        if ticket is not None and ticket.status != TicketStatus.CLOSED:
            reason = _reply(session, rec, parsed, ticket)
        else:
            follow_up = ticket.reference if ticket is not None else None
            if follow_up is None and REF_RE.search(parsed.subject):
                follow_up = ""  # a foreign reference: strip it from the new ticket's subject
            reason = _new_ticket(session, rec, parsed, cfg, follow_up)
    session.add(rec)
    session.flush()
    if reason is None and rec.ticket_id is not None:
        notes += _attachments(session, rec, parsed, cfg)
    rec.reason = "; ".join(([reason] if reason else []) + ([rec.reason] if rec.reason else []) + notes)[:4000] or None
    session.flush()
    return rec, True


def _reply(session: Session, rec: ProcessedMessage, parsed: Parsed, ticket: Ticket) -> str | None:
    from core.tickets.service import append_customer_reply

    contact = session.scalar(select(Contact).where(Contact.email == parsed.from_addr))
    body = strip_quote(parsed.body)[:DESCRIPTION_MAX] or f"(no text) {parsed.subject}"[:DESCRIPTION_MAX]
    ev = append_customer_reply(session=session, ticket=ticket, contact=contact, body=body,
                               data={"channel": Channel.EMAIL, "message_id": parsed.message_id,
                                     "from": parsed.from_addr})
    rec.outcome, rec.ticket_id, rec.event_id = Outcome.REPLY, ticket.id, ev.id
    return None


def _new_ticket(session: Session, rec: ProcessedMessage, parsed: Parsed, cfg: dict, follow_up: str | None) -> str | None:
    from core.tickets.models import TicketEvent
    from core.tickets.service import create_ticket

    sender = service.resolve_sender(session=session, email=parsed.from_addr, file_unknown=True)
    service.file_contact(session=session, sender=sender, name=parsed.from_name)
    subject = REF_RE.sub("", parsed.subject).strip() if follow_up is not None else parsed.subject
    subject = re.sub(r"^((re|fwd?|aw|wg)\s*:\s*)+", "", subject, flags=re.I).strip() or "(no subject)"
    description = parsed.body or subject
    if follow_up:
        description = f"(follow-up of the closed ticket {follow_up})\n\n{description}"
    token = _PENDING_THREAD.set([parsed.message_id] if parsed.message_id else [])
    try:
        ticket = create_ticket(session=session, actor="mail", channel=Channel.EMAIL, data={
            "subject": subject[:SUBJECT_MAX], "description": description[:DESCRIPTION_MAX],
            "requester_email": parsed.from_addr, "account": sender.account_key})
    except IntakeError as exc:
        return f"invalid ({exc})"
    finally:
        _PENDING_THREAD.reset(token)
    rec.outcome, rec.ticket_id = Outcome.TICKET, ticket.id
    rec.event_id = session.scalar(select(TicketEvent.id).where(TicketEvent.ticket_id == ticket.id)
                                  .order_by(TicketEvent.id).limit(1))
    if sender.unknown:
        rec.reason = f"unknown sender: filed under {sender.account_key}"
    return None


def _attachments(session: Session, rec: ProcessedMessage, parsed: Parsed, cfg: dict) -> list[str]:
    limit_mb = float(cfg.get("max_attachment_mb") or 10)
    limit = int(limit_mb * 1024 * 1024)
    notes = []
    try:
        parts = list(parsed.message.iter_attachments()) if parsed.message.is_multipart() else []
    except Exception as exc:  # broken MIME: keep the text, say why the files are missing
        return [f"attachments unreadable: {exc}"]
    for part in parts:
        name = (part.get_filename() or "attachment")[:255]
        ctype = part.get_content_type()[:127]
        try:
            data = part.get_payload(decode=True)
            if data is None:
                data = part.as_bytes()
        except Exception as exc:
            notes.append(f"attachment {name} unreadable: {exc}")
            continue
        att = TicketAttachment(ticket_id=rec.ticket_id, event_id=rec.event_id, message_id=rec.id, filename=name,
                               content_type=ctype,
                               size=len(data), sha256=hashlib.sha256(data).hexdigest())
        if len(data) > limit:
            att.stored, att.data = False, None
            att.note = f"refused: {len(data) / 1048576:.1f} MB is over the {limit_mb:g} MB limit"
            notes.append(f"attachment {name} {att.note}")
        else:
            att.stored, att.data = True, data
        session.add(att)
    session.flush()
    return notes


# ---------------------------------------------------------------- one pass

@dataclass
class PollResult:
    mailbox: str = ""
    tickets: int = 0
    replies: int = 0
    skipped: Counter = field(default_factory=Counter)
    already: int = 0
    unknown_senders: int = 0
    error: str | None = None

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def counts(self) -> dict:
        return {"tickets": self.tickets, "replies": self.replies, "skipped": self.skipped_total,
                "already_imported": self.already, "unknown_senders": self.unknown_senders,
                "reasons": dict(self.skipped)}

    def lines(self) -> list[str]:
        out = [f"mailbox {self.mailbox}", f"tickets: {self.tickets}", f"replies: {self.replies}",
               f"skipped: {self.skipped_total}"]
        out += [f"  {reason}: {n}" for reason, n in sorted(self.skipped.items())]
        if self.unknown_senders:
            out.append(f"tickets from unknown senders (filed under the intake account): {self.unknown_senders}")
        if self.already:
            out.append(f"already imported (flagged only): {self.already}")
        if self.error:
            out.append(f"error: {self.error}")
        return out


def _reason_group(reason: str | None) -> str:
    return (reason or "skipped").split(" (")[0].split(";")[0]


def poll(*, limit: int = 500) -> PollResult:
    """One pass over the mailbox: import every message not yet flagged, flag it after its commit.
    Holds the mailbox's advisory lock: a second pass while one runs raises service.ChannelBusy."""
    with service.channel_lock("mailbox"):
        return _locked_poll(limit)


def _locked_poll(limit: int) -> PollResult:
    result = PollResult()
    with session_scope() as s:
        run_id = service.start_run(session=s, provider=Provider.MAILBOX).id
    try:
        with session_scope() as s:
            params, cfg = configured_params(s)
        result.mailbox = params.name
        conn = connect(params)
        try:
            _pass(conn, params, cfg, result, limit)
        finally:
            _logout(conn)
    except (MailboxError, OSError, imaplib.IMAP4.error) as exc:
        result.error = str(exc)
    finally:
        with session_scope() as s:
            from core.channels.models import SyncRun

            service.finish_run(session=s, run=s.get(SyncRun, run_id), counts=result.counts(), error=result.error)
    return result


def _pass(conn, params: ImapParams, cfg: dict, result: PollResult, limit: int) -> None:
    keyword = cfg["keyword"]
    validity = conn.response("UIDVALIDITY")[1]
    uidvalidity = int(validity[0]) if validity and validity[0] else None
    typ, data = conn.uid("SEARCH", None, "UNKEYWORD", keyword)
    if typ != "OK":
        raise MailboxError(f"SEARCH failed: {data}")
    uids = [int(u) for u in (data[0] or b"").split()]
    if uids and uidvalidity is not None:
        # Already recorded (a crash before the flag, or a server that keeps no custom keywords): no refetch,
        # so such messages never crowd new mail out of the pass's limit.
        with session_scope() as s:
            done = set(s.scalars(select(ProcessedMessage.uid).where(
                ProcessedMessage.mailbox == params.name, ProcessedMessage.uidvalidity == uidvalidity,
                ProcessedMessage.uid.in_(uids))))
        for uid in [u for u in uids if u in done]:
            _flag(conn, uid, keyword)
            result.already += 1
        uids = [u for u in uids if u not in done]
    for uid in uids[:limit]:
        typ, fetched = conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
        raw = next((item[1] for item in fetched or [] if isinstance(item, tuple)), None)
        if typ != "OK" or raw is None:
            continue  # expunged meanwhile
        try:
            with session_scope() as s:
                rec, new = import_message(session=s, mailbox=params.name, raw=raw, uid=uid,
                                          uidvalidity=uidvalidity, config=cfg)
                outcome, reason = rec.outcome, rec.reason
        except OperationalError:
            raise  # the database is down: leave the message unflagged for the next pass
        except Exception as exc:  # one bad message must not stop the loop: record why, flag, go on
            log.exception("message uid %s could not be imported", uid)
            outcome, reason, new = Outcome.SKIPPED, f"could not be imported ({type(exc).__name__}: {exc})", True
            with session_scope() as s:
                _record_failure(s, params.name, raw, uid, uidvalidity, reason)
        if not new:
            result.already += 1
        elif outcome == Outcome.TICKET:
            result.tickets += 1
            result.unknown_senders += (reason or "").startswith("unknown sender:")
        elif outcome == Outcome.REPLY:
            result.replies += 1
        else:
            result.skipped[_reason_group(reason)] += 1
        _flag(conn, uid, keyword)


def _flag(conn, uid: int, keyword: str) -> None:
    typ, data = conn.uid("STORE", str(uid), "+FLAGS", f"(\\Seen {keyword})")
    if typ != "OK":  # e.g. no custom keywords on this server: the processed-message record still guards
        log.warning("could not flag uid %s with %s: %s", uid, keyword, data)


def _record_failure(session: Session, mailbox: str, raw: bytes, uid, uidvalidity, reason: str) -> None:
    try:
        parsed = parse(raw)
        key, mid, sender, subject = message_key(parsed, uid, uidvalidity), parsed.message_id, parsed.from_addr, parsed.subject
    except Exception:
        key, mid, sender, subject = f"uid:{uidvalidity}:{uid}", None, None, None
    if session.scalar(select(ProcessedMessage.id).where(ProcessedMessage.mailbox == mailbox,
                                                        ProcessedMessage.message_key == key)) is None:
        session.add(ProcessedMessage(mailbox=mailbox, message_key=key[:300], message_id=mid, uid=uid,
                                     uidvalidity=uidvalidity, from_addr=sender, subject=(subject or "")[:300] or None,
                                     size=len(raw), outcome=Outcome.SKIPPED, reason=reason[:4000]))
        session.flush()


def recent_messages(*, session: Session, limit: int = 100) -> list[ProcessedMessage]:
    """The latest processed messages, newest first."""
    return list(session.scalars(select(ProcessedMessage).order_by(ProcessedMessage.id.desc()).limit(limit)))


__all__ = ["ImapParams", "MailboxError", "Parsed", "PollResult", "connect", "find_thread", "imap_params",
           "import_message", "parse", "poll", "skip_reason", "test_connection", "ticket_message_ids"]
