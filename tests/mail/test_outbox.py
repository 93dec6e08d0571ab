"""The outbox sends through a real SMTP server (aiosmtpd on loopback) and retries with backoff."""

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from core.config import get_settings
from core.mail.models import OutboxMessage
from core.mail.service import queue_mail, send_due
from tests.helpers import free_port


class Collect(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture
def smtp(monkeypatch):
    handler = Collect()
    port = free_port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port)
    ctl.start()
    monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{port}")
    get_settings.cache_clear()
    yield handler
    ctl.stop()
    get_settings.cache_clear()


def test_queued_mail_is_delivered_as_plain_text(session, smtp):
    queue_mail(session=session, to="ann@example.com", subject="[AC-1] Hello", body="<script>alert(1)</script> hi", kind="t")
    session.commit()
    assert send_due(session=session)["sent"] == 1
    session.commit()
    (msg,) = smtp.messages
    assert msg["To"] == "ann@example.com" and msg["Subject"] == "[AC-1] Hello"
    assert msg.get_content_type() == "text/plain" and "<script>" in msg.get_payload()
    assert session.query(OutboxMessage).one().status == "sent"
    assert send_due(session=session)["sent"] == 0  # nothing twice


def test_unreachable_smtp_marks_failed_with_the_reason_and_backs_off(session, monkeypatch):
    monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    m = queue_mail(session=session, to="ann@example.com", subject="s", body="b", kind="t")
    session.commit()
    assert send_due(session=session)["failed"] == 1
    session.commit()
    session.refresh(m)
    assert m.status == "failed" and m.attempts == 1 and "cannot connect" in m.last_error
    assert m.next_attempt_at > m.created_at
    assert send_due(session=session)["failed"] == 0  # not due again yet
    get_settings.cache_clear()


def test_without_smtp_url_mail_stays_queued(session, monkeypatch):
    monkeypatch.delenv("SMTP_URL", raising=False)
    get_settings.cache_clear()
    queue_mail(session=session, to="ann@example.com", subject="s", body="b", kind="t")
    assert send_due(session=session)["sent"] == 0
    assert session.query(OutboxMessage).one().status == "queued"
