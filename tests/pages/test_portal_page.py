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
