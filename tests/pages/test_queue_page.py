"""AppTest of the queue's forms: open a ticket by its number, reassign it, change status, category and
priority, reply or note, confirm a triage, page through results; a stale form is refused."""

from sqlalchemy import func, select

from core.accounts.models import Account, Contact
from core.auth.models import Team, User
from core.db import session_scope
from core.tickets import service
from core.tickets.enums import Channel
from core.tickets.models import Ticket, TicketEvent


def _new_open_ticket(*, several_agents: bool = False) -> int:
    """A fresh open ticket owned by an agent of its team: the demo data varies with the clock (some seeds have
    no open ticket at all), so each test arranges the ticket it works on."""
    with session_scope() as s:
        lead = s.scalar(select(User).where(User.username == "lead"))
        email = s.scalar(select(Contact.email).join(Account, Contact.account_id == Account.id)
                         .where(Account.status == "active", Account.key != "unassigned-senders")
                         .order_by(Contact.id).limit(1))
        t = service.create_ticket(session=s, actor=lead, channel=Channel.STAFF, data={
            "requester_email": email, "subject": "Run history export stops at 80%",
            "description": "The CSV export of agent runs has stopped at 80% since Monday."})
        s.flush()
        agents = select(User.team_id).where(User.role == "agent", User.active.is_(True), User.team_id.is_not(None))
        if several_agents:
            agents = agents.group_by(User.team_id).having(func.count() > 1)
        team_id = s.scalar(agents.order_by(User.team_id).limit(1))
        t.status, t.team_id = "open", team_id
        t.assignee_id = s.scalar(select(User.id).where(User.team_id == team_id, User.role == "agent",
                                                       User.active.is_(True)).order_by(User.id).limit(1))
        return t.id


def _open_ticket(app_as, tid: int | None = None):
    """The queue page, as a support lead, with one ticket opened by its number (a fresh one by default)."""
    tid = tid if tid is not None else _new_open_ticket()
    with session_scope() as s:
        agent = s.get(Ticket, tid).assignee_id
        agent_name = s.get(User, agent).name if agent else None
    at = app_as("support_lead")
    at.switch_page("pages/queue.py").run()
    search = next(w for w in at.text_input if w.label.startswith("Search"))
    search.input(f"AC-{tid}").run()
    assert any(sh.value.startswith(f"AC-{tid}:") for sh in at.subheader), [sh.value for sh in at.subheader]
    return at, tid, agent_name


def _agent_box(at):
    return [b for b in at.selectbox if b.label == "Agent"][-1]  # the single-ticket reassign form


def test_a_lead_opens_a_ticket_by_number_and_reassigns_it(app_as):
    at, tid, current = _open_ticket(app_as, _new_open_ticket(several_agents=True))
    box = _agent_box(at)
    with session_scope() as s:
        team_id = s.get(Ticket, tid).team_id
        team_name = s.get(Team, team_id).name
    new_index = next(i for i, o in enumerate(box.options)
                     if f"({team_name})" in o and not o.startswith(current + " ("))
    new_name = box.options[new_index].split(" (")[0]
    box.select_index(new_index)
    next(b for b in at.button if b.label == "Reassign").click().run()
    assert not at.exception
    assert f"AC-{tid} reassigned." in [s.value for s in at.success]
    with session_scope() as s:
        assert s.get(User, s.get(Ticket, tid).assignee_id).name == new_name


def test_picking_an_agent_of_another_team_moves_the_ticket_to_that_team(app_as):
    at, tid, current = _open_ticket(app_as)
    with session_scope() as s:
        old_team = s.get(Team, s.get(Ticket, tid).team_id).name
    box = _agent_box(at)
    new_index = next(i for i, o in enumerate(box.options) if o != "nobody (team queue)" and f"({old_team}" not in o)
    new_name, new_team = box.options[new_index].split(" (")[0], box.options[new_index].split(" (")[1].split(")")[0]
    box.select_index(new_index)
    next(b for b in at.button if b.label == "Reassign").click().run()
    assert not at.exception and f"AC-{tid} reassigned." in [s.value for s in at.success]
    with session_scope() as s:
        t = s.get(Ticket, tid)
        assert s.get(User, t.assignee_id).name == new_name and s.get(Team, t.team_id).name == new_team


def test_an_agent_and_a_team_that_do_not_match_are_refused(app_as):
    at, tid, current = _open_ticket(app_as)
    with session_scope() as s:
        t = s.get(Ticket, tid)
        before = (t.team_id, t.assignee_id, t.version)
        other_team = s.scalar(select(Team).where(Team.id != t.team_id).order_by(Team.id).limit(1)).name
    box = _agent_box(at)
    box.select_index(next(i for i, o in enumerate(box.options) if o.startswith(current + " (")))
    team_box = [b for b in at.selectbox if b.label == "Team"][-1]
    team_box.select_index(next(i for i, o in enumerate(team_box.options) if o == other_team))
    next(b for b in at.button if b.label == "Reassign").click().run()
    assert not at.exception
    assert any("works in" in e.value and other_team in e.value for e in at.error), [e.value for e in at.error]
    with session_scope() as s:
        t = s.get(Ticket, tid)
        assert (t.team_id, t.assignee_id, t.version) == before


def test_category_and_priority_change_together_with_a_reason(app_as):
    at, tid, _ = _open_ticket(app_as)
    with session_scope() as s:
        t = s.get(Ticket, tid)
        cat = "billing" if t.category != "billing" else "question"
        prio = "low" if t.priority != "low" else "high"
    [b for b in at.selectbox if b.label == "Category"][-1].set_value(cat)
    [b for b in at.selectbox if b.label == "Priority"][-1].set_value(prio)
    next(w for w in at.text_input if w.label == "Reason (required)" and w.key != "move_requester_reason").input(
        "customer clarified")
    next(b for b in at.button if b.label == "Save").click().run()
    assert not at.exception and "Saved." in [s.value for s in at.success], [e.value for e in at.error]
    with session_scope() as s:
        t = s.get(Ticket, tid)
        assert (t.category, t.priority, t.category_source) == (cat, prio, "human")


def test_an_internal_note_can_set_the_status(app_as):
    at, tid, _ = _open_ticket(app_as)
    at.text_area[0].input("Waiting for the logs from the customer's admin")
    next(r for r in at.radio if r.label == "Kind").set_value("Internal note")
    next(b for b in at.selectbox if b.label == "Then set status").set_value("on_hold")
    next(b for b in at.button if b.label == "Send").click().run()
    assert not at.exception
    assert f"Note added; AC-{tid} is now on_hold." in [s.value for s in at.success]
    assert at.text_area[0].value == ""  # the form starts afresh: a second click cannot add the note twice
    with session_scope() as s:
        assert s.get(Ticket, tid).status == "on_hold"
        note = s.scalar(select(TicketEvent).where(TicketEvent.ticket_id == tid, TicketEvent.kind == "internal_note"))
        assert note is not None and not note.public


def test_a_lead_confirms_a_triage_ticket_and_it_leaves_the_triage_queue(app_as):
    fresh = _new_open_ticket()
    with session_scope() as s:
        t = s.get(Ticket, fresh)
        t.needs_triage = True
        tid, category, source = t.id, t.category, t.category_source
    at, tid, _ = _open_ticket(app_as, tid)
    next(b for b in at.button if b.label == f"Confirm {category}").click().run()
    assert not at.exception
    assert f"AC-{tid}: category {category} confirmed." in [s.value for s in at.success]
    with session_scope() as s:
        t = s.get(Ticket, tid)
        assert not t.needs_triage and (t.category, t.category_source) == (category, source)


def test_changing_filters_on_a_later_page_starts_again_at_page_one(app_as):
    at = app_as("support_lead")
    at.switch_page("pages/queue.py").run()
    status = next(m for m in at.multiselect if m.label == "Status")
    status.set_value(list(status.options)).run()  # every status: more than one page of 50
    next(b for b in at.button if b.label == "Next").click().run()
    assert any(m.value == "2 of " + m.value.split(" of ")[1] for m in at.metric if m.label == "Page")
    next(m for m in at.multiselect if m.label == "Status").set_value(["closed"]).run()
    assert not at.exception
    page = next(m for m in at.metric if m.label == "Page").value
    assert page.startswith("1 of "), page
    assert not any("No tickets match" in i.value for i in at.info)


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


def test_a_ticket_shows_its_attachments_with_a_download_and_says_why_one_was_not_kept(app_as):
    from core.channels.models import TicketAttachment

    fresh = _new_open_ticket()
    with session_scope() as s:
        t = s.get(Ticket, fresh)
        s.add_all([TicketAttachment(ticket_id=t.id, filename="trace_[1].log", content_type="text/plain", size=2048,
                                    data=b"x" * 2048),
                   TicketAttachment(ticket_id=t.id, filename="screen.mov", content_type="video/quicktime",
                                    size=31_000_000, stored=False, data=None,
                                    note="over the 10 MB attachment limit")])
        tid = t.id
    at = app_as("support_lead")
    at.switch_page("pages/queue.py").run()
    next(w for w in at.text_input if w.label.startswith("Search")).input(f"AC-{tid}").run()
    assert not at.exception
    assert "**Attachments**" in [m.value for m in at.markdown]
    downloads = [b for b in at.get("download_button")]
    assert [d.proto.label for d in downloads] == ["trace_[1].log (2.0 KB, text/plain)"]
    assert any("screen\\.mov" in c.value and "not kept" in c.value and "10 MB" in c.value for c in at.caption)


def test_a_lead_moves_an_unknown_senders_ticket_to_the_right_account(app_as):
    from datetime import datetime, timezone

    fresh = _new_open_ticket()
    with session_scope() as s:
        intake = Account(key="unassigned-senders", name="Unassigned senders", plan="free",
                         started_at=datetime.now(timezone.utc))
        s.add(intake)
        s.flush()
        stranger = Contact(account_id=intake.id, email="new.buyer@initech.example", name="New Buyer")
        s.add(stranger)
        s.flush()
        t = s.get(Ticket, fresh)
        t.requester_id, t.account_id = stranger.id, intake.id
        tid = t.id
        target = s.scalar(select(Account).where(Account.key != "unassigned-senders").order_by(Account.id).limit(1))
        target_key = target.key
    at = app_as("support_lead")
    at.switch_page("pages/queue.py").run()
    next(w for w in at.text_input if w.label.startswith("Search")).input(f"AC-{tid}").run()
    next(b for b in at.button if b.label == "Move requester").click().run()
    assert "Choose the account to move the requester to." in [e.value for e in at.error]
    next(b for b in at.selectbox if b.label == "Move to account").set_value(target_key)
    next(w for w in at.text_input if w.key == "move_requester_reason").input("Initech bought seats last week")
    next(b for b in at.button if b.label == "Move requester").click().run()
    assert not at.exception, at.exception
    assert any("moved to" in s.value for s in at.success), [e.value for e in at.error]
    with session_scope() as s:
        assert s.get(Ticket, tid).account_id == s.scalar(select(Account.id).where(Account.key == target_key))
