"""AppTest of the staff form: find the caller's account by a few letters, file the ticket, see how it was
categorised; bad input is a message per field and stores nothing."""

from sqlalchemy import func, select

from core.accounts.models import Account
from core.db import session_scope
from core.tickets.models import Ticket


def _open(app_as):
    at = app_as("agent")
    at.switch_page("pages/new_ticket.py").run()
    assert not at.exception
    return at


def test_an_agent_finds_the_account_and_files_a_phone_ticket(app_as):
    with session_scope() as s:
        acc = s.scalar(select(Account).where(Account.status == "active").order_by(Account.name.desc()).limit(1))
        key, name = acc.key, acc.name
        before = s.scalar(select(func.count()).select_from(Ticket))
    at = _open(app_as)
    at.text_input(key="new_ticket_find_account").input(name[: max(3, len(name) // 2)].lower()).run()
    box = at.selectbox(key="new_ticket_account_0")
    assert box.value is None  # nothing is picked for the agent
    assert key in box.options or any(name in o for o in box.options)
    box.set_value(key).run()
    at.text_input[1].input("caller@" + key + ".example")
    next(t for t in at.text_input if t.label == "Subject").input("Invoice shows the wrong VAT number")
    at.text_area[0].input("The caller says the November invoice has last year's VAT number on it.")
    next(b for b in at.button if b.label == "Create ticket").click().run()
    assert not at.exception
    assert any(m.value.startswith("Created AC-") and "billing" in m.value for m in at.success), \
        [e.value for e in at.error]
    # the form starts afresh: a second click cannot file the same ticket twice
    assert next(t for t in at.text_input if t.label == "Subject").value == ""
    assert at.selectbox(key="new_ticket_account_1").value is None
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == before + 1
        t = s.scalar(select(Ticket).order_by(Ticket.id.desc()).limit(1))
        assert (t.channel, s.get(Account, t.account_id).key) == ("staff", key)


def test_an_unknown_account_search_says_so_and_empty_fields_get_a_message_each(app_as):
    with session_scope() as s:
        before = s.scalar(select(func.count()).select_from(Ticket))
    at = _open(app_as)
    at.text_input(key="new_ticket_find_account").input("zzz-no-such-company").run()
    assert any("No active account matches" in w.value for w in at.warning)
    at.text_input(key="new_ticket_find_account").input("").run()
    next(b for b in at.button if b.label == "Create ticket").click().run()
    assert not at.exception
    assert len(at.error) >= 2  # subject and description (and the requester) each say what is missing
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == before


def test_a_search_that_matches_nothing_does_not_file_the_ticket_under_an_account_picked_before(app_as):
    with session_scope() as s:
        before = s.scalar(select(func.count()).select_from(Ticket))
    at = _open(app_as)
    box = at.selectbox(key="new_ticket_account_0")
    box.set_value(box.options[0]).run()
    at.text_input(key="new_ticket_find_account").input("zzzz").run()
    assert any("No active account matches" in w.value for w in at.warning)
    next(t for t in at.text_input if t.label == "Requester e-mail").input("someone.new@nowhere.example")
    next(t for t in at.text_input if t.label == "Subject").input("Cannot log in")
    at.text_area[0].input("The login page keeps spinning.")
    next(b for b in at.button if b.label == "Create ticket").click().run()
    assert not at.exception and not at.success
    assert any("Account is required" in e.value for e in at.error), [e.value for e in at.error]
    assert next(t for t in at.text_input if t.label == "Subject").value == "Cannot log in"  # kept to fix and resend
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == before
