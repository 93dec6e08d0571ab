"""Mailbox intake against a real dovecot IMAP server on loopback, with real messages."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import func, select

from core.channels import mailbox
from core.channels.models import ProcessedMessage, SyncRun, TicketAttachment
from core.mail.models import OutboxMessage
from core.mail.service import build_email
from core.tickets.models import Ticket, TicketEvent


def mail(subject="Export button does nothing", body="When I click export on the agents page nothing happens.",
         sender="Ana <ana@acme.example>", **headers) -> bytes:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = "support@aftercare.local"
    m["Subject"] = subject
    m["Message-ID"] = headers.pop("message_id", None) or make_msgid(domain="customer.example")
    for k, v in headers.items():
        m[k.replace("_", "-")] = v
    m.set_content(body)
    return bytes(m)


def mail_with_files(big_mb: int) -> bytes:
    """A customer's mail with a small log and a zero-filled dump of big_mb MB."""
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "ana@acme.example", "support@aftercare.local", "Logs attached"
    m["Message-ID"] = "<attach@x>"
    m.set_content("See the attached logs.")
    m.add_attachment(b"line 1\nline 2\n", maintype="text", subtype="plain", filename="small.log")
    m.add_attachment(b"\0" * (big_mb * 1024 * 1024), maintype="application", subtype="octet-stream",
                     filename="core.dump")
    return bytes(m)


def tickets(session):
    session.expire_all()
    return list(session.scalars(select(Ticket).order_by(Ticket.id)))


def test_new_message_becomes_ticket_then_threaded_reply_reopens_it(dovecot, customers, session, capsys, make_user):
    from core.cli import main

    dovecot.deliver(mail())
    assert main(["mailbox", "poll"]) == 0
    out = capsys.readouterr().out
    assert "tickets: 1" in out and "replies: 0" in out and "skipped: 0" in out
    [ticket] = tickets(session)
    assert ticket.channel == "email" and ticket.subject == "Export button does nothing"
    assert ticket.account_id == customers["acme"].id
    # the confirmation carries the reference and threads under the customer's message
    confirmation = session.scalar(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id))
    original_id = session.scalar(select(ProcessedMessage.message_id))
    assert f"[{ticket.reference}]" in confirmation.subject
    email = build_email(confirmation, "support@aftercare.local")
    assert email["In-Reply-To"] == original_id and original_id in email["References"]
    assert all("$AftercareImported" in f and "\\Seen" in f for f in dovecot.flags())

    # the agent waits on the customer; the customer answers the confirmation from their mail client
    ticket.status = "pending"
    session.commit()
    dovecot.deliver(mail(subject="Re: " + confirmation.subject.replace(f"[{ticket.reference}] ", ""),
                         body="It works in Firefox, not in Chrome.\n\nOn Mon, support wrote:\n> quoted text",
                         In_Reply_To=confirmation.message_id, References=f"{original_id} {confirmation.message_id}"))
    # a second reply found only by the [AC-n] reference in its subject
    dovecot.deliver(mail(subject=f"Re: [{ticket.reference}] more", body="Also the CSV is empty."))
    # another company quoting our reference does not get into Ana's ticket: it files its own
    dovecot.deliver(mail(subject=f"Re: [{ticket.reference}] me too", body="Same here.", sender="bo@globex.example"))
    assert main(["mailbox", "poll"]) == 0
    out = capsys.readouterr().out
    assert "replies: 2" in out and "tickets: 1" in out
    ticket, other = tickets(session)
    assert other.account_id == customers["globex"].id and other.subject == "me too"
    assert ticket.status == "open"  # a pending ticket goes back to open
    replies = list(session.scalars(select(TicketEvent.body).where(TicketEvent.ticket_id == ticket.id,
                                                                  TicketEvent.kind == "customer_reply")
                                   .order_by(TicketEvent.id)))
    assert replies == ["It works in Firefox, not in Chrome.", "Also the CSV is empty."]

    # the agent's answer threads under the customer's latest message and carries the reference
    from core.tickets.service import public_reply

    agent = make_user("agent")
    public_reply(session=session, actor=agent, ticket_id=ticket.id, body="Fixed in 2.4.1.")
    session.commit()
    answer = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "public_reply"))
    last_customer = session.scalar(select(ProcessedMessage.message_id).where(ProcessedMessage.outcome == "reply")
                                   .order_by(ProcessedMessage.id.desc()).limit(1))
    email = build_email(answer, "support@aftercare.local")
    assert email["Subject"].startswith(f"[{ticket.reference}]") and email["In-Reply-To"] == last_customer
    assert original_id in email["References"] and confirmation.message_id in email["References"]

    # nothing is imported twice
    assert main(["mailbox", "poll"]) == 0
    assert "tickets: 0" in capsys.readouterr().out
    assert session.scalar(select(func.count()).select_from(ProcessedMessage)) == 4


def test_auto_replies_bounces_and_bad_messages_are_skipped_with_reasons(dovecot, customers, session, capsys):
    from core.cli import main

    dovecot.deliver(mail(subject="Out of office", Auto_Submitted="auto-replied"))
    dovecot.deliver(mail(subject="Newsletter", Precedence="bulk"))
    dovecot.deliver(mail(subject="Away", X_Autoreply="yes"))
    dovecot.deliver(mail(subject="Undelivered Mail Returned to Sender", sender="MAILER-DAEMON@mx.example"))
    dovecot.deliver(mail(subject="Returned mail", sender="postmaster@mx.example"))
    dovecot.deliver(b"Subject: nobody wrote this\nMessage-ID: <nosender@x>\n\nno From header here\n")
    dovecot.deliver(mail(subject="Hello", sender="Stranger <stranger@unknown-company.example>"))
    # an unknown charset still becomes a ticket, read with a fallback and a recorded note
    dovecot.deliver(b"From: ana@acme.example\nSubject: Caf\xe9 report broken\nMessage-ID: <charset@x>\n"
                    b"MIME-Version: 1.0\nContent-Type: text/plain; charset=x-klingon\n"
                    b"Content-Transfer-Encoding: 8bit\n\nThe caf\xe9 report shows nothing since Monday.\n")
    # a malformed message: a multipart without its parts or any text
    dovecot.deliver(b"From: ana@acme.example\nMessage-ID: <broken@x>\nMIME-Version: 1.0\n"
                    b"Content-Type: multipart/mixed; boundary=\"zzz\"\n\n--wrong\n")
    assert main(["mailbox", "poll"]) == 0
    out = capsys.readouterr().out
    assert "tickets: 2" in out and "skipped: 7" in out
    assert "  auto-reply: 3" in out and "  bounce: 2" in out and "  no sender: 1" in out
    assert "  malformed: 1" in out and "unknown sender" not in out.split("skipped")[1].split("tickets from")[0]
    stranger, ticket = tickets(session)
    assert "report shows nothing since Monday" in ticket.description
    assert stranger.subject == "Hello"  # an unknown sender is not dropped: see test_unknown_sender_*
    rec = session.scalar(select(ProcessedMessage).where(ProcessedMessage.message_id == "<charset@x>"))
    assert rec.outcome == "ticket" and "charset 'x-klingon' unknown" in rec.reason
    reasons = dict(session.execute(select(ProcessedMessage.subject, ProcessedMessage.reason)).all())
    assert reasons["Out of office"] == "auto-reply (Auto-Submitted: auto-replied)"
    assert reasons["Hello"] == "unknown sender: filed under unassigned-senders"
    assert all("\\Seen" in f for f in dovecot.flags())  # the loop went on past every bad message
    run = session.scalar(select(SyncRun).order_by(SyncRun.id.desc()))
    assert run.status == "ok" and run.counts["skipped"] == 7 and run.counts["unknown_senders"] == 1


def test_unknown_sender_policy_domain_match_then_catch_all(dovecot, customers, session, make_user):
    from core.channels.service import save_config

    dovecot.deliver(mail(sender="carla@acme.example", subject="Colleague of Ana"))
    result = mailbox.poll()
    assert (result.tickets, result.unknown_senders) == (1, 0)
    [ticket] = tickets(session)
    assert ticket.account_id == customers["acme"].id  # filed by the company domain, contact created
    admin = make_user("admin")
    save_config(session=session, actor=admin, key="mailbox", enabled=True, config={"catch_all_account": "globex"})
    session.commit()
    dovecot.deliver(mail(sender="other@gmail.com", subject="Another free-mail sender"))
    result = mailbox.poll()
    assert (result.tickets, result.unknown_senders) == (1, 1)
    assert tickets(session)[-1].account_id == customers["globex"].id


def test_unknown_senders_land_in_unassigned_senders_with_a_contact(dovecot, customers, session, capsys):
    from core.accounts.models import Account, Contact
    from core.cli import main

    dovecot.deliver(mail(sender="Zoe Quinn <zoe@gmail.com>", subject="Free-mail sender", body="Please help."))
    dovecot.deliver(mail(sender="max@newco.example", subject="New company"))
    assert main(["mailbox", "poll"]) == 0
    out = capsys.readouterr().out
    assert "tickets: 2" in out and "skipped: 0" in out and "tickets from unknown senders" in out
    zoe, newco = tickets(session)
    intake = session.scalar(select(Account).where(Account.key == "unassigned-senders"))
    assert intake.name == "Unassigned senders"  # created on first use
    assert zoe.account_id == newco.account_id == intake.id
    contact = session.scalar(select(Contact).where(Contact.email == "zoe@gmail.com"))
    assert contact.account_id == intake.id and contact.name == "Zoe Quinn" and zoe.requester_id == contact.id
    # the sender hears back like any customer (same intake path as the portal)
    confirmation = session.scalar(select(OutboxMessage).where(OutboxMessage.ticket_id == zoe.id))
    assert confirmation.to_addr == "zoe@gmail.com"

    # a colleague from the same new company is not matched to the intake account "by company domain"
    dovecot.deliver(mail(sender="kim@newco.example", subject="Me too"))
    # a stranger quoting Zoe's reference does not get into her ticket (the intake account is shared)...
    dovecot.deliver(mail(sender="eve@gmail.com", subject=f"Re: [{zoe.reference}] let me in", body="Hi."))
    # ...Zoe herself does
    dovecot.deliver(mail(sender="zoe@gmail.com", subject=f"Re: [{zoe.reference}] more", body="Screenshot soon."))
    assert main(["mailbox", "poll"]) == 0
    out = capsys.readouterr().out
    assert "tickets: 2" in out and "replies: 1" in out
    by_subject = {t.subject: t for t in tickets(session)}
    assert by_subject["Me too"].account_id == intake.id
    assert by_subject["let me in"].account_id == intake.id  # its own ticket
    replies = list(session.scalars(select(TicketEvent.body).where(TicketEvent.ticket_id == zoe.id,
                                                                  TicketEvent.kind == "customer_reply")))
    assert replies == ["Screenshot soon."]


def test_large_attachment_is_refused_with_a_record_small_one_kept(dovecot, customers, session, make_user):
    from core.channels.service import save_config

    save_config(session=session, actor=make_user("admin"), key="mailbox", enabled=True,
                config={"max_attachment_mb": 1})
    session.commit()
    dovecot.deliver(mail_with_files(big_mb=3))
    result = mailbox.poll()
    assert result.tickets == 1
    atts = {a.filename: a for a in session.scalars(select(TicketAttachment))}
    assert atts["small.log"].stored and atts["small.log"].data == b"line 1\nline 2\n"
    assert atts["small.log"].content_type == "text/plain"
    big = atts["core.dump"]
    assert not big.stored and big.data is None and big.size == 3 * 1024 * 1024
    assert "over the 1 MB limit" in big.note
    rec = session.scalar(select(ProcessedMessage))
    assert "core.dump refused" in rec.reason


def test_crash_between_commit_and_flag_does_not_duplicate(dovecot, customers, session):
    dovecot.deliver(mail(message_id="<crash@customer.example>"))
    # a pass that committed the ticket and died before setting the flag
    params = mailbox.imap_params(dovecot.url)
    conn = dovecot.client()
    typ, data = conn.fetch("1", "(BODY.PEEK[])")
    conn.logout()
    from core.db import session_scope

    with session_scope() as s:
        mailbox.import_message(session=s, mailbox=params.name, raw=data[0][1], uid=1)
    assert "$AftercareImported" not in dovecot.flags()[0]
    result = mailbox.poll()
    assert (result.tickets, result.already) == (0, 1)
    assert len(tickets(session)) == 1
    assert "$AftercareImported" in dovecot.flags()[0]


def test_mailbox_down_is_recorded_as_a_failed_run(db_url, session, monkeypatch, capsys):
    from core.cli import main
    from core.config import get_settings
    from tests.helpers import free_port

    monkeypatch.setenv("IMAP_URL", f"imap://u:p@127.0.0.1:{free_port()}/INBOX")
    get_settings.cache_clear()
    assert main(["mailbox", "poll"]) == 1
    assert "cannot reach" in capsys.readouterr().out
    run = session.scalar(select(SyncRun))
    assert run.status == "failed" and "cannot reach" in run.error
    get_settings.cache_clear()


def test_a_second_poll_while_one_runs_is_refused_and_imports_nothing(dovecot, customers, session, capsys):
    from core.channels.service import channel_lock
    from core.cli import main

    dovecot.deliver(mail())
    with channel_lock("mailbox"):  # a pass is running (the worker, or "Poll now" on the settings page)
        assert main(["mailbox", "poll"]) == 2
        assert "another mailbox poll is running right now" in capsys.readouterr().err
        assert tickets(session) == [] and session.scalar(select(func.count()).select_from(SyncRun)) == 0
    assert main(["mailbox", "poll"]) == 0  # the lock is released with the pass
    assert len(tickets(session)) == 1


def test_a_server_that_drops_our_keyword_does_not_starve_new_mail(dovecot, customers, session):
    """A server that keeps no custom keywords: recorded messages are not fetched again, and new mail is
    reached even with a pass limit of one."""
    dovecot.deliver(mail(message_id="<first@customer.example>"))
    assert mailbox.poll().tickets == 1
    conn = dovecot.client()
    typ, _ = conn.store("1", "-FLAGS", "($AftercareImported)")  # the keyword did not stick
    conn.logout()
    assert typ == "OK" and "$AftercareImported" not in dovecot.flags()[0]
    dovecot.deliver(mail(subject="Second problem", message_id="<second@customer.example>"))
    result = mailbox.poll(limit=1)
    assert (result.tickets, result.already) == (1, 1)
    assert sorted(t.subject for t in tickets(session)) == ["Export button does nothing", "Second problem"]
