"""Notifications the console sends itself: PagerDuty Events v2, Slack webhooks and SMTP, with retries
and one NotificationAttempt row per try (the Alerts page shows the log).

Other domains call:

    notify(session=s, channel=Channel.SLACK, subject="SLA breached: AC-42", body="...",
           severity=Severity.WARNING, dedup_key="sla-42")            -> NotifyResult

`dedup_key` groups PagerDuty events (same key = same incident); `to` is required for email.
Delivery failures do not raise: the result says `ok=False` and the attempts are logged.
"""

from __future__ import annotations

import logging
import smtplib
import time
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlparse

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.monitoring.models import AttemptStatus, Channel, NotificationAttempt, Severity

log = logging.getLogger(__name__)

DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 1.0
TIMEOUT = 5.0


class DeliveryError(Exception):
    """One failed attempt: retryable (network, 429, 5xx) or not (other 4xx, bad config)."""

    def __init__(self, message: str, *, retryable: bool, http_status: int | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.http_status = http_status


@dataclass
class NotifyResult:
    ok: bool
    notification_id: str
    attempts: list[NotificationAttempt] = field(default_factory=list)
    error: str | None = None


def notify(*, session: Session, channel: Channel | str, subject: str, body: str,
           severity: Severity | str = Severity.WARNING, dedup_key: str | None = None, to: str | None = None,
           source: str = "aftercare", retries: int = DEFAULT_RETRIES, backoff: float = DEFAULT_BACKOFF) -> NotifyResult:
    """Send one notification with retries, logging each attempt in the caller's transaction."""
    channel = _enum(Channel, channel, "channel")
    severity = _enum(Severity, severity, "severity")
    subject = (subject or "").strip()
    if not subject:
        raise ValueError("a notification needs a subject")
    if retries < 1:
        raise ValueError("retries must be at least 1")
    if channel is Channel.EMAIL and not (to and "@" in to):
        raise ValueError("an email notification needs a recipient address (to=...)")
    settings = get_settings()
    nid = str(uuid.uuid4())
    result = NotifyResult(ok=False, notification_id=nid)

    sender, target, missing = _sender(channel, settings, to=to)
    if sender is None:
        result.attempts.append(_log(session, nid, channel, target, subject, severity, dedup_key, 1,
                                    AttemptStatus.NOT_CONFIGURED, error=f"{missing} is not set", ms=0))
        result.error = f"{missing} is not set"
        return result

    for attempt in range(1, retries + 1):
        start = time.perf_counter()
        try:
            code = sender(subject=subject, body=body, severity=severity, dedup_key=dedup_key, source=source)
        except DeliveryError as exc:
            ms = int((time.perf_counter() - start) * 1000)
            result.attempts.append(_log(session, nid, channel, target, subject, severity, dedup_key, attempt,
                                        AttemptStatus.FAILED, http_status=exc.http_status, error=str(exc), ms=ms))
            result.error = str(exc)
            if not exc.retryable or attempt == retries:
                log.warning("notification %s via %s failed: %s", nid, channel, exc)
                return result
            time.sleep(backoff * (2 ** (attempt - 1)))
            continue
        ms = int((time.perf_counter() - start) * 1000)
        result.attempts.append(_log(session, nid, channel, target, subject, severity, dedup_key, attempt,
                                    AttemptStatus.SENT, http_status=code, ms=ms))
        result.ok, result.error = True, None
        return result
    return result


def attempts_log(*, session: Session, limit: int = 200, channel: Channel | str | None = None) -> list[NotificationAttempt]:
    """The most recent notification attempts, newest first."""
    q = select(NotificationAttempt).order_by(NotificationAttempt.id.desc()).limit(limit)
    if channel:
        q = q.where(NotificationAttempt.channel == _enum(Channel, channel, "channel").value)
    return list(session.scalars(q))


def _enum(kind, value, what: str):
    try:
        return kind(value)
    except ValueError:
        raise ValueError(f"unknown {what} {value!r}; use one of {', '.join(k.value for k in kind)}") from None


def _log(session, nid, channel, target, subject, severity, dedup_key, attempt, status, *, http_status=None,
         error=None, ms=0) -> NotificationAttempt:
    row = NotificationAttempt(notification_id=nid, channel=channel.value, target=target[:300], subject=subject[:300],
                              severity=severity.value, dedup_key=dedup_key, attempt=attempt, status=status.value,
                              http_status=http_status, error=(error or None) and error[:500], duration_ms=ms)
    session.add(row)
    session.flush()
    return row


def _sender(channel: Channel, settings, *, to: str | None):
    """(send function, redacted target, missing setting name)."""
    if channel is Channel.PAGERDUTY:
        key = settings.pagerduty_routing_key.get_secret_value() if settings.pagerduty_routing_key else ""
        url = settings.pagerduty_url
        target = urlparse(url).netloc or url
        if not key:
            return None, target, "PAGERDUTY_ROUTING_KEY"
        return (lambda **kw: _pagerduty(url, key, **kw)), target, None
    if channel is Channel.SLACK:
        url = settings.slack_webhook_url.get_secret_value() if settings.slack_webhook_url else ""
        if not url:
            return None, "slack", "SLACK_WEBHOOK_URL"
        return (lambda **kw: _slack(url, **kw)), "slack:" + (urlparse(url).netloc or "?"), None
    if not settings.smtp_url:
        return None, to or "", "SMTP_URL"
    return (lambda **kw: _email(settings.smtp_url, settings.mail_from, to, **kw)), to, None


def _post(url: str, payload: dict, ok_codes: tuple[int, ...]) -> int:
    try:
        r = requests.post(url, json=payload, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise DeliveryError(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}", retryable=True) from exc
    if r.status_code in ok_codes:
        return r.status_code
    retryable = r.status_code == 429 or r.status_code >= 500
    raise DeliveryError(f"HTTP {r.status_code}: {r.text[:200]}", retryable=retryable, http_status=r.status_code)


def _pagerduty(url: str, routing_key: str, *, subject, body, severity, dedup_key, source) -> int:
    payload = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "payload": {"summary": subject[:1024], "source": source, "severity": severity.value,
                    "custom_details": {"body": body}},
    }
    if dedup_key:
        payload["dedup_key"] = dedup_key
    return _post(url, payload, (200, 201, 202))


def _slack(url: str, *, subject, body, severity, dedup_key, source) -> int:
    icon = {"critical": ":red_circle:", "error": ":large_orange_circle:", "warning": ":warning:"}.get(severity.value, ":information_source:")
    payload = {"text": f"{icon} *{subject}*\n{body}".strip(),
               "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": f"{icon} *{subject}*"}},
                          {"type": "section", "text": {"type": "plain_text", "text": body[:2900] or " "}}]}
    return _post(url, payload, (200,))


def smtp_settings(url: str) -> dict:
    """Parse SMTP_URL: smtp://user:pass@host:port (?starttls=1) or smtps://..."""
    u = urlparse(url)
    if u.scheme not in ("smtp", "smtps"):
        raise DeliveryError(f"SMTP_URL must start with smtp:// or smtps://, not {u.scheme!r}", retryable=False)
    q = parse_qs(u.query)
    return {"host": u.hostname or "127.0.0.1", "port": u.port or (465 if u.scheme == "smtps" else 25),
            "ssl": u.scheme == "smtps", "starttls": q.get("starttls", ["0"])[0] in ("1", "true", "yes"),
            "user": unquote(u.username) if u.username else None,
            "password": unquote(u.password) if u.password else None}


def _email(smtp_url: str, sender: str, to: str, *, subject, body, severity, dedup_key, source) -> int:
    p = smtp_settings(smtp_url)
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["X-Aftercare-Severity"] = severity.value
    if dedup_key:
        msg["X-Aftercare-Dedup-Key"] = dedup_key
    msg.set_content(body)
    try:
        cls = smtplib.SMTP_SSL if p["ssl"] else smtplib.SMTP
        with cls(p["host"], p["port"], timeout=TIMEOUT) as smtp:
            if p["starttls"]:
                smtp.starttls()
            if p["user"]:
                smtp.login(p["user"], p["password"] or "")
            smtp.send_message(msg)
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"[:300], retryable=exc.smtp_code >= 400 and exc.smtp_code < 500,
                            http_status=None) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}"[:300], retryable=True) from exc
    return 250
