"""Mail parsing without a server: IMAP_URL forms, HTML-only mail, quoted replies, broken headers."""

from __future__ import annotations

import pytest

from core.channels.mailbox import MailboxError, imap_params, parse, skip_reason, strip_quote


def test_imap_url_forms():
    p = imap_params("imaps://support%40acme.example:p%40ss@mail.acme.example/Support%20Inbox")
    assert (p.host, p.port, p.ssl, p.user, p.password, p.folder) == (
        "mail.acme.example", 993, True, "support@acme.example", "p@ss", "Support Inbox")
    assert "p@ss" not in p.name
    p = imap_params("imap://u:p@127.0.0.1:1143?starttls=1")
    assert (p.port, p.ssl, p.starttls, p.folder) == (1143, False, True, "INBOX")
    assert imap_params("imap://u:p@h/INBOX", folder="Tickets").folder == "Tickets"
    with pytest.raises(MailboxError, match="imap://"):
        imap_params("pop3://u:p@h")
    with pytest.raises(MailboxError, match="user name"):
        imap_params("imap://h:143/INBOX")


def test_html_only_mail_is_read_as_text_never_as_html():
    raw = (b"From: Ana <ana@acme.example>\nSubject: =?utf-8?q?Caf=C3=A9?=\nMessage-ID: <h@x>\nMIME-Version: 1.0\n"
           b"Content-Type: text/html; charset=utf-8\n\n<p>Hello<br>the <b>export</b> fails</p><script>x()</script>")
    p = parse(raw)
    assert p.subject == "Caf\u00e9" and p.from_addr == "ana@acme.example" and p.message_id == "<h@x>"
    assert p.body == "Hello\nthe export fails"


def test_quoted_text_is_cut_from_replies():
    body = "Works now, thanks!\n\nOn Tue, 25 Nov 2026, Support <support@x> wrote:\n> old text\n> more"
    assert strip_quote(body) == "Works now, thanks!"
    assert strip_quote("Inline answer\n> quoted") == "Inline answer"
    assert strip_quote("> only a quote") == "> only a quote"  # never empty


def test_a_broken_address_header_does_not_stop_parsing():
    p = parse(b"From: \"unterminated <ana@acme.example\nTo: ,,,@@\nSubject: hi\n\nbody\n")
    assert p.subject == "hi" and p.body == "body"
    assert skip_reason(p) in (None, "no sender")
