"""Ticket intake, routing, changes and portal isolation against real PostgreSQL."""

import threading

import pytest
from sqlalchemy import select

from core.audit.models import AuditLog
from core.auth.roles import PermissionDenied
from core.db import session_scope
from core.mail.models import OutboxMessage
from core.tickets import service
from core.tickets.enums import Channel, TicketStatus
from core.tickets.intake import IntakeError
from core.tickets.models import Ticket, TicketEvent

BUG = {"subject": "Agent run fails with error 500 every time",
       "description": "When I start the onboarding agent it crashes with Internal Server Error 500 and the run is lost.",
       "reproducible": True}


def _count(session, model):
    return len(session.scalars(select(model)).all())


@pytest.mark.parametrize("data,field,message", [
    ({"subject": "x" * 201, "description": "d"}, "subject", "at most 200"),
    ({"subject": "s", "description": "d" * 20001}, "description", "at most 20000"),
    ({"subject": "", "description": "d"}, "subject", "required"),
    ({"subject": "s", "description": "   "}, "description", "required"),
    ({"subject": "s", "description": "d", "page_url": "javascript:alert(1)"}, "page_url", "http"),
])
def test_bad_input_gets_a_message_per_field_and_stores_nothing(session, org, data, field, message):
    with pytest.raises(IntakeError) as err:
        service.create_ticket(session=session, actor=org["ann"], data=data, channel=Channel.PORTAL)
    assert message in err.value.errors[field]
    session.rollback()
    assert _count(session, Ticket) == 0 and _count(session, OutboxMessage) == 0


def test_portal_ticket_is_categorised_routed_and_confirmed(session, org):
    t = service.create_ticket(session=session, actor=org["ann"], data=BUG, channel=Channel.PORTAL)
    session.commit()
    assert t.category == "bug" and t.priority == "high"  # a reproducible bug
    assert t.team_id == session.scalar(select(Ticket.team_id).where(Ticket.id == t.id))
    assert t.assignee_id in (org["t1"].id, org["t2"].id)
    assert t.category_source == "model" and 0 < t.category_confidence <= 1
    mail = session.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == t.id)).all()
    assert [m.to_addr for m in mail] == ["ann@acme.example"]
    assert f"[AC-{t.id}]" in mail[0].subject and "bug" in mail[0].body
    kinds = [e.kind for e in session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id))]
    assert kinds == ["created", "assigned"]


def test_least_loaded_agent_gets_the_next_ticket_and_away_agents_get_none(session, org):
    first = service.create_ticket(session=session, actor=org["ann"], data=BUG, channel=Channel.PORTAL)
    second = service.create_ticket(session=session, actor=org["ann"], data=BUG, channel=Channel.PORTAL)
    assert {first.assignee_id, second.assignee_id} == {org["t1"].id, org["t2"].id}  # round robin on a tie
    org["t2"].away = True
    session.flush()
    later = [service.create_ticket(session=session, actor=org["ann"], data=BUG, channel=Channel.PORTAL) for _ in range(3)]
    assert {t.assignee_id for t in later} == {org["t1"].id}


def test_capacity_limit_is_respected(session, org):
    org["t1"].capacity = 1
    org["t2"].capacity = 1
    session.flush()
    ts = [service.create_ticket(session=session, actor=org["ann"], data=BUG, channel=Channel.PORTAL) for _ in range(3)]
    assert sorted(t.assignee_id is None for t in ts) == [False, False, True]


def test_customer_never_sees_another_accounts_ticket(session, org):
    t = service.create_ticket(session=session, actor=org["gus"], data=BUG, channel=Channel.PORTAL)
    session.commit()
    with pytest.raises(service.TicketNotFound):
        service.ticket_for_customer(session=session, actor=org["ann"], ticket_id=t.id)
    with pytest.raises(service.TicketNotFound):
        service.customer_reply(session=session, actor=org["ann"], ticket_id=t.id, body="let me in")
    assert service.customer_tickets(session=session, actor=org["ann"]) == []
    assert [x.id for x in service.customer_tickets(session=session, actor=org["gus"])] == [t.id]


def test_first_public_reply_is_recorded_and_a_customer_reply_reopens_pending(session, org):
    t = service.create_ticket(session=session, actor=org["ann"], data=BUG, channel=Channel.PORTAL)
    service.add_note(session=session, actor=org["t1"], ticket_id=t.id, body="internal only")
    assert t.first_response_at is None
    service.public_reply(session=session, actor=org["t1"], ticket_id=t.id, body="Looking into it", status=TicketStatus.PENDING)
    first = t.first_response_at
    assert first is not None and t.status == "pending"
    service.public_reply(session=session, actor=org["t1"], ticket_id=t.id, body="More")
    assert t.first_response_at == first
    service.customer_reply(session=session, actor=org["ann"], ticket_id=t.id, body="Here are the logs")
    assert t.status == "open"
    public = service.timeline(session=session, ticket_id=t.id, public_only=True)
    assert "internal only" not in [e.body for e in public]


def test_solve_and_reopen_stamp_and_clear_solved_at(session, org):
    t = service.create_ticket(session=session, actor=org["ann"], data=BUG, channel=Channel.PORTAL)
    service.change_status(session=session, actor=org["t1"], ticket_id=t.id, version=t.version, status=TicketStatus.SOLVED)
    assert t.solved_at is not None
    service.change_status(session=session, actor=org["t1"], ticket_id=t.id, version=t.version, status=TicketStatus.OPEN)
    assert t.solved_at is None
    service.customer_close(session=session, actor=org["ann"], ticket_id=t.id)
    assert t.status == "solved"


def test_category_correction_needs_a_reason_and_becomes_a_labelled_event(session, org):
    t = service.create_ticket(session=session, actor=org["ann"], data=BUG, channel=Channel.PORTAL)
    with pytest.raises(service.TicketError, match="reason"):
        service.change_category(session=session, actor=org["t1"], ticket_id=t.id, version=t.version, category="question", reason=" ")
    service.change_category(session=session, actor=org["t1"], ticket_id=t.id, version=t.version, category="question",
                            reason="customer is asking how to")
    ev = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id, TicketEvent.kind == "category")).one()
    assert ev.data["from"] == "bug" and ev.data["to"] == "question" and ev.data["subject"] == BUG["subject"]
    assert t.category_source == "human"


def test_an_agent_of_another_team_moves_the_ticket_only_with_the_agents_team(session, org):
    t = service.create_ticket(session=session, actor=org["ann"], data=BUG, channel=Channel.PORTAL)
    tech, support = t.team_id, org["s1"].team_id
    before = (t.team_id, t.assignee_id, t.version)
    with pytest.raises(service.TicketError, match="works in Support, not Tech"):
        service.reassign(session=session, actor=org["lead"], ticket_id=t.id, version=t.version, team_id=tech,
                         assignee_id=org["s1"].id)
    assert (t.team_id, t.assignee_id, t.version) == before
    service.reassign(session=session, actor=org["lead"], ticket_id=t.id, version=t.version, assignee_id=org["s1"].id)
    assert (t.team_id, t.assignee_id) == (support, org["s1"].id)


def test_confirming_a_triage_category_clears_triage_and_is_a_labelled_example(session, org):
    t = service.create_ticket(session=session, actor=org["ann"], data=BUG, channel=Channel.PORTAL)
    with pytest.raises(service.TicketError, match="not waiting for triage"):
        service.confirm_category(session=session, actor=org["t1"], ticket_id=t.id, version=t.version)
    t.needs_triage = True
    session.flush()
    source = t.category_source
    with pytest.raises(PermissionDenied):
        service.confirm_category(session=session, actor=org["ops"], ticket_id=t.id, version=t.version)
    service.confirm_category(session=session, actor=org["t1"], ticket_id=t.id, version=t.version)
    assert not t.needs_triage and t.category_source == source
    ev = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id, TicketEvent.kind == "category")).one()
    assert ev.data["confirmed"] and ev.data["to"] == t.category and ev.data["source"] == "human"
    from core.tickets.classify import human_corrections

    assert [r["category"] for r in human_corrections(session=session)] == [t.category]


def test_a_lead_moves_a_requester_and_all_their_tickets_to_another_account(session, org):
    first = service.create_ticket(session=session, actor=org["ann"], data=BUG, channel=Channel.PORTAL)
    second = service.create_ticket(session=session, actor=org["ann"], data=BUG, channel=Channel.PORTAL)
    with pytest.raises(PermissionDenied):
        service.move_requester(session=session, actor=org["t1"], ticket_id=first.id, account_key="globex", reason="x")
    with pytest.raises(service.TicketError, match="reason is required"):
        service.move_requester(session=session, actor=org["lead"], ticket_id=first.id, account_key="globex", reason=" ")
    with pytest.raises(service.TicketError, match="no account 'nope'"):
        service.move_requester(session=session, actor=org["lead"], ticket_id=first.id, account_key="nope", reason="x")
    assert first.account_id == org["acme"].id
    n = service.move_requester(session=session, actor=org["lead"], ticket_id=first.id, account_key="globex",
                               reason="Ann moved to Globex")
    assert n == 2 and first.account_id == second.account_id == org["globex"].id
    # Gus (Globex) now sees Ann's requests.
    assert {t.id for t in service.customer_tickets(session=session, actor=org["gus"])} >= {first.id, second.id}
    [audit] = session.scalars(select(AuditLog).where(AuditLog.action == "contact.move")).all()
    assert audit.details["from"] == "acme" and audit.details["to"] == "globex"


def test_roles_without_permission_cannot_change_tickets(session, org):
    t = service.create_ticket(session=session, actor=org["ann"], data=BUG, channel=Channel.PORTAL)
    with pytest.raises(PermissionDenied):
        service.reassign(session=session, actor=org["ops"], ticket_id=t.id, version=t.version, assignee_id=org["t2"].id)
    with pytest.raises(PermissionDenied):
        service.change_status(session=session, actor=org["ann"], ticket_id=t.id, version=t.version, status="solved")
    with pytest.raises(PermissionDenied):
        service.bulk_reassign(session=session, actor=org["t1"], ticket_ids=[t.id], team_id=t.team_id)


def test_reassignment_with_a_stale_version_is_refused_and_changes_nothing(session, org):
    t = service.create_ticket(session=session, actor=org["ann"], data=BUG, channel=Channel.PORTAL)
    session.commit()
    loaded = t.version
    service.reassign(session=session, actor=org["lead"], ticket_id=t.id, version=loaded, assignee_id=org["t2"].id)
    session.commit()
    with pytest.raises(service.StaleTicket) as err:
        service.reassign(session=session, actor=org["lead"], ticket_id=t.id, version=loaded, assignee_id=org["t1"].id)
    assert err.value.ticket.assignee_id == org["t2"].id
    session.rollback()
    audits = session.scalars(select(AuditLog).where(AuditLog.action == "ticket.reassign")).all()
    assert len(audits) == 1


def test_two_concurrent_reassignments_one_wins_one_is_told(db_url, session, org):
    t = service.create_ticket(session=session, actor=org["ann"], data=BUG, channel=Channel.PORTAL)
    session.commit()
    version, tid = t.version, t.id
    barrier = threading.Barrier(2)
    outcomes = {}

    def attempt(name, assignee_id):
        barrier.wait()
        try:
            with session_scope(db_url) as s:
                actor = s.get(type(org["lead"]), org["lead"].id)
                service.reassign(session=s, actor=actor, ticket_id=tid, version=version, assignee_id=assignee_id)
            outcomes[name] = "won"
        except service.StaleTicket:
            outcomes[name] = "told"

    threads = [threading.Thread(target=attempt, args=("a", org["t1"].id)),
               threading.Thread(target=attempt, args=("b", org["t2"].id))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert sorted(outcomes.values()) == ["told", "won"]
    session.expire_all()
    winner = org["t1"].id if outcomes["a"] == "won" else org["t2"].id
    assert session.get(Ticket, tid).assignee_id == winner


def test_staff_ticket_needs_account_and_requester(session, org):
    with pytest.raises(IntakeError) as err:
        service.create_ticket(session=session, actor=org["s1"], data={"subject": "Call", "description": "Phone call"},
                              channel=Channel.STAFF)
    assert set(err.value.errors) == {"account", "requester_email"}
    t = service.create_ticket(session=session, actor=org["s1"], channel=Channel.STAFF,
                              data={"subject": "Invoice has the wrong VAT number", "account": "acme",
                                    "requester_email": "new.person@acme.example",
                                    "description": "Please reissue last month's invoice with our VAT ID."})
    assert t.category == "billing" and t.priority == "high"
    assert session.scalar(select(AuditLog.action).where(AuditLog.entity == "ticket", AuditLog.entity_id == str(t.id))) == "ticket.create"


def test_bulk_reassign_to_an_agent_alone_moves_the_tickets_to_the_agents_team(session, org):
    tickets = [service.create_ticket(session=session, actor=org["ann"], data=BUG, channel=Channel.PORTAL)
               for _ in range(2)]
    session.commit()
    assert {t.team_id for t in tickets} == {org["t1"].team_id}  # a bug lands in tech
    moved = service.bulk_reassign(session=session, actor=org["lead"], ticket_ids=[t.id for t in tickets],
                                  assignee_id=org["s1"].id)
    session.commit()
    assert moved == 2
    for t in tickets:
        session.refresh(t)
        assert (t.assignee_id, t.team_id) == (org["s1"].id, org["s1"].team_id)
    with pytest.raises(service.TicketError, match="works in"):  # a team chosen as well must be the agent's
        service.bulk_reassign(session=session, actor=org["lead"], ticket_ids=[tickets[0].id],
                              team_id=org["t1"].team_id, assignee_id=org["s1"].id)
