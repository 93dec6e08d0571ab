"""AppTest of the queue's forms: open a ticket by its number, reassign it, and a stale form is refused."""

from sqlalchemy import select

from core.auth.models import User
from core.db import session_scope
from core.tickets import service
from core.tickets.models import Ticket


def _open_ticket(app_as):
    with session_scope() as s:
        t = s.scalar(select(Ticket).where(Ticket.status == "open", Ticket.assignee_id.is_not(None))
                     .order_by(Ticket.id).limit(1))
        tid, agent = t.id, t.assignee_id
        agent_name = s.get(User, agent).name
    at = app_as("support_lead")
    at.switch_page("pages/queue.py").run()
    search = next(w for w in at.text_input if w.label.startswith("Search"))
    search.input(f"AC-{tid}").run()
    assert any(sh.value.startswith(f"AC-{tid}:") for sh in at.subheader), [sh.value for sh in at.subheader]
    return at, tid, agent_name


def _agent_box(at):
    return [b for b in at.selectbox if b.label == "Agent"][-1]  # the single-ticket reassign form


def test_a_lead_opens_a_ticket_by_number_and_reassigns_it(app_as):
    at, tid, current = _open_ticket(app_as)
    box = _agent_box(at)
    new_index = next(i for i, o in enumerate(box.options) if o not in (current, "nobody (team queue)"))
    new_name = box.options[new_index]
    box.select_index(new_index)
    next(b for b in at.button if b.label == "Reassign").click().run()
    assert not at.exception
    assert f"AC-{tid} reassigned." in [s.value for s in at.success]
    with session_scope() as s:
        assert s.get(User, s.get(Ticket, tid).assignee_id).name == new_name


def test_reassign_form_for_a_changed_ticket_says_so_and_changes_nothing(app_as):
    at, tid, current = _open_ticket(app_as)
    with session_scope() as s:  # someone else changes the ticket after the page loaded it
        lead = s.scalar(select(User).where(User.username == "lead"))
        t = s.get(Ticket, tid)
        service.change_priority(session=s, actor=lead, ticket_id=tid, version=t.version,
                                priority="low" if t.priority != "low" else "high", reason="customer downgraded")
    with session_scope() as s:
        before = (s.get(Ticket, tid).assignee_id, s.get(Ticket, tid).version)
    box = _agent_box(at)
    box.select_index(next(i for i, o in enumerate(box.options) if o not in (current, "nobody (team queue)")))
    next(b for b in at.button if b.label == "Reassign").click().run()
    assert not at.exception
    assert any("changed by someone else" in w.value for w in at.warning), [w.value for w in at.warning]
    assert any("Nothing was changed" in i.value for i in at.info)
    with session_scope() as s:
        assert (s.get(Ticket, tid).assignee_id, s.get(Ticket, tid).version) == before
