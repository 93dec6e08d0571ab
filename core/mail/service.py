"""Queueing mail in the caller's transaction and sending due messages over SMTP with backoff."""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import parse_qs, unquote, urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.mail.models import MailStatus, OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_MINUTES = (1, 5, 15, 60, 240)


# Other domains add the Message-IDs of mail a ticket received: "module:function", called as
# function(session=..., ticket_id=...) -> [(datetime, message_id), ...] (a missing domain is skipped).
THREAD_SOURCES = ["core.channels.mailbox:ticket_message_ids"]


def thread_headers(*, session: Session, ticket_id: int) -> dict:
    """In-Reply-To/References for a new message on a ticket: its earlier mail, both directions, oldest first."""
    import importlib

    earlier = [(m.created_at, m.message_id) for m in session.scalars(
        select(OutboxMessage).where(OutboxMessage.ticket_id == ticket_id, OutboxMessage.message_id.is_not(None))
        .order_by(OutboxMessage.id))]
    for spec in THREAD_SOURCES:
        module, func = spec.split(":")
        try:
            earlier += getattr(importlib.import_module(module), func)(session=session, ticket_id=ticket_id)
        except (ImportError, AttributeError):
            continue
    ids = list(dict.fromkeys(mid for _, mid in sorted(earlier, key=lambda r: r[0]) if mid))
    if not ids:
        return {}
    return {"In-Reply-To": ids[-1], "References": " ".join(ids[-20:])}


def queue_mail(*, session: Session, to: str, subject: str, body: str, kind: str,
               ticket_id: int | None = None, headers: dict | None = None) -> OutboxMessage:
    """Add a plain-text message to the outbox (sent later by the worker); mail on a ticket carries its
    reference [AC-n] in the subject and threads under the ticket's earlier messages."""
    if ticket_id is not None:
        headers = {**thread_headers(session=session, ticket_id=ticket_id), **(headers or {})}
        if f"AC-{ticket_id}" not in subject:
            subject = f"[AC-{ticket_id}] {subject}"
    msg = OutboxMessage(to_addr=to, subject=subject[:300], body=body, kind=kind, ticket_id=ticket_id,
                        headers=headers or {}, message_id=make_msgid(domain="aftercare.local"))
    session.add(msg)
    session.flush()
    return msg


def smtp_params(url: str) -> dict:
    """Parse SMTP_URL: smtp://user:pass@host:port (starttls with ?starttls=1) or smtps://..."""
    u = urlparse(url)
    if u.scheme not in ("smtp", "smtps"):
        raise ValueError(f"SMTP_URL must start with smtp:// or smtps://, not {u.scheme!r}")
    q = parse_qs(u.query)
    return {
        "host": u.hostname or "127.0.0.1",
        "port": u.port or (465 if u.scheme == "smtps" else 25),
        "ssl": u.scheme == "smtps",
        "starttls": q.get("starttls", ["0"])[0] in ("1", "true", "yes"),
        "user": unquote(u.username) if u.username else None,
        "password": unquote(u.password) if u.password else None,
    }


def build_email(msg: OutboxMessage, sender: str) -> EmailMessage:
    """The RFC 5322 message for an outbox row (plain text: user text is never rendered as HTML)."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = msg.to_addr
    email["Subject"] = msg.subject
    email["Message-ID"] = msg.message_id or make_msgid(domain="aftercare.local")
    for key, value in (msg.headers or {}).items():
        email[key] = value
    email.set_content(msg.body)
    return email


def send_due(*, session: Session, now: datetime | None = None, limit: int = 100) -> dict:
    """Send queued and retry-due messages; returns counts. Without SMTP_URL nothing is sent."""
    settings = get_settings()
    if not settings.smtp_url:
        return {"sent": 0, "failed": 0, "skipped": "SMTP_URL not set"}
    now = now or datetime.now(timezone.utc)
    due = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status.in_([MailStatus.QUEUED, MailStatus.FAILED]), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id).limit(limit).with_for_update(skip_locked=True)
    ).all()
    if not due:
        return {"sent": 0, "failed": 0}
    params = smtp_params(settings.smtp_url)
    sent = failed = 0
    try:
        client = _connect(params)
    except (OSError, smtplib.SMTPException) as exc:
        for msg in due:
            _fail(msg, f"cannot connect to SMTP {params['host']}:{params['port']}: {exc}", now)
        return {"sent": 0, "failed": len(due)}
    try:
        for msg in due:
            try:
                client.send_message(build_email(msg, settings.mail_from))
            except (OSError, smtplib.SMTPException) as exc:
                _fail(msg, str(exc), now)
                failed += 1
            else:
                msg.status, msg.sent_at, msg.last_error = MailStatus.SENT, now, None
                msg.attempts += 1
                sent += 1
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            pass
    session.flush()
    return {"sent": sent, "failed": failed}


def _connect(params: dict) -> smtplib.SMTP:
    timeout = get_settings().http_timeout_seconds * 3
    cls = smtplib.SMTP_SSL if params["ssl"] else smtplib.SMTP
    client = cls(params["host"], params["port"], timeout=timeout)
    if params["starttls"]:
        client.starttls()
    if params["user"]:
        client.login(params["user"], params["password"] or "")
    return client


def _fail(msg: OutboxMessage, error: str, now: datetime) -> None:
    msg.attempts += 1
    msg.last_error = error[:2000]
    if msg.attempts >= MAX_ATTEMPTS:
        msg.status = MailStatus.DEAD
    else:
        msg.status = MailStatus.FAILED
        msg.next_attempt_at = now + timedelta(minutes=BACKOFF_MINUTES[min(msg.attempts - 1, len(BACKOFF_MINUTES) - 1)])


def outbox(*, session: Session, ticket_id: int | None = None, status: str | None = None, limit: int = 200) -> list[OutboxMessage]:
    """Recent outbox messages, newest first, optionally for one ticket or one state."""
    q = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if ticket_id is not None:
        q = q.where(OutboxMessage.ticket_id == ticket_id)
    if status:
        q = q.where(OutboxMessage.status == status)
    return list(session.scalars(q))
