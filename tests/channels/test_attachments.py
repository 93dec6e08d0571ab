"""Reading a ticket's mail attachments: who may, what they see, refused files with their note."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.channels import mailbox
from core.tickets.models import Ticket
from tests.channels.test_mailbox import mail_with_files


@pytest.fixture
def ticket_with_files(dovecot, customers, session, make_user):
    from core.channels.service import save_config

    save_config(session=session, actor=make_user("admin"), key="mailbox", enabled=True, config={"max_attachment_mb": 1})
    session.commit()
    dovecot.deliver(mail_with_files(big_mb=2))
    assert mailbox.poll().tickets == 1
    return session.scalar(select(Ticket))


def test_staff_list_files_and_load_the_kept_ones(ticket_with_files, session, make_user):
    from core.channels.attachments import attachments_for_ticket

    small, big = attachments_for_ticket(session=session, actor=make_user("agent"), ticket_id=ticket_with_files.id)
    assert (small.filename, small.content_type, small.size, small.stored) == ("small.log", "text/plain", 14, True)
    assert small.load() == b"line 1\nline 2\n"
    assert (big.filename, big.size, big.stored, big.load) == ("core.dump", 2 * 1024 * 1024, False, None)
    assert "over the 1 MB limit" in big.note


def test_only_those_who_may_view_the_ticket_see_its_files(ticket_with_files, session, make_user, customers):
    from core.accounts.models import Contact
    from core.auth.roles import PermissionDenied
    from core.channels.attachments import attachments_for_ticket
    from core.tickets.service import TicketNotFound

    with pytest.raises(PermissionDenied):
        attachments_for_ticket(session=session, actor=make_user("pm"), ticket_id=ticket_with_files.id)
    ana = session.scalar(select(Contact).where(Contact.email == "ana@acme.example"))
    bo = session.scalar(select(Contact).where(Contact.email == "bo@globex.example"))
    own = attachments_for_ticket(session=session, actor=make_user("customer", contact_id=ana.id),
                                 ticket_id=ticket_with_files.id)
    assert [a.filename for a in own] == ["small.log", "core.dump"]
    with pytest.raises(TicketNotFound):  # another company's customer: as if there were no such ticket
        attachments_for_ticket(session=session, actor=make_user("customer", contact_id=bo.id),
                               ticket_id=ticket_with_files.id)
    with pytest.raises(TicketNotFound):
        attachments_for_ticket(session=session, actor=make_user("agent"), ticket_id=ticket_with_files.id + 999)
