"""AppTest of the customer portal's request form: a refused send keeps what the customer typed, a good one
files the ticket and starts the form afresh."""

from sqlalchemy import func, select

from core.db import session_scope
from core.tickets.models import Ticket


def _form(at):
    subject = next(t for t in at.text_input if t.label == "Subject")
    body = next(t for t in at.text_area if t.label == "What happened?")
    return subject, body


def test_a_refused_request_keeps_the_text_and_a_sent_one_clears_the_form(app_as):
    with session_scope() as s:
        before = s.scalar(select(func.count()).select_from(Ticket))
    at = app_as("customer")
    at.switch_page("pages/portal.py").run()
    assert not at.exception
    subject, body = _form(at)
    body.input("Our agent stops answering after the third tool call; the run log shows a timeout.")
    next(r for r in at.radio if r.label == "Does it happen every time?").set_value("Yes")
    next(b for b in at.button if b.label == "Send request").click().run()
    assert any("Subject" in e.value for e in at.error), [e.value for e in at.error]
    subject, body = _form(at)
    assert body.value.startswith("Our agent stops answering")  # nothing to type again
    assert next(r for r in at.radio if r.label == "Does it happen every time?").value == "Yes"
    subject.input("Agent stops after three tool calls")
    next(b for b in at.button if b.label == "Send request").click().run()
    assert not at.exception
    assert any(m.value.startswith("Thanks! Your request AC-") for m in at.success), [e.value for e in at.error]
    subject, body = _form(at)
    assert (subject.value, body.value) == ("", "")
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == before + 1


def test_my_requests_lists_them_with_plain_statuses_and_closing_one_asks_first(app_as):
    from core.auth.models import User

    with session_scope() as s:
        me = s.scalar(select(User).where(User.username == "customer"))
        mine = s.scalars(select(Ticket).where(Ticket.account_id == select(Ticket.account_id).where(
            Ticket.requester_id == me.contact_id).limit(1).scalar_subquery()).order_by(Ticket.created_at.desc())).all()
        newest = mine[0]
        newest.status = "open"  # one the customer can still close
        tid = newest.id
    at = app_as("customer")
    at.switch_page("pages/portal.py").run()
    frame = next(d for d in at.dataframe).value
    assert len(frame) == len(mine) and frame.iloc[0]["request"] == f"AC-{tid}"
    assert frame.iloc[0]["status"] == "In progress" and not frame["status"].isin(["on_hold", "pending"]).any()
    assert any(c.value.startswith("Status: In progress") for c in at.caption)
    with session_scope() as s:
        assert s.get(Ticket, tid).status == "open"  # showing the confirmation changed nothing
    next(b for b in at.button if b.label == "Yes, close it").click().run()
    assert not at.exception
    assert f"AC-{tid} is marked solved. Thank you!" in [m.value for m in at.success]
    with session_scope() as s:
        assert s.get(Ticket, tid).status == "solved"
