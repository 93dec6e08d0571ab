"""Collecting feedback through the services: ratings, NPS offers, CSAT rules, follow-ups, roadmap and permissions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.audit.models import AuditLog
from core.auth.roles import PermissionDenied
from core.feedback import service
from core.feedback.models import CsatRequest, DetractorFollowUp, FeedbackItem
from core.feedback.service import FeedbackError
from core.mail.models import OutboxMessage
from tests.feedback.conftest import utc

NOW = utc(2026, 3, 10, 12)


def test_rating_is_stored_with_page_and_audited(session, make_account, make_customer):
    acc = make_account("acme")
    customer = make_customer(acc)
    item = service.submit_rating(session=session, actor=customer, score=4, comment="  <b>nice</b> exports ",
                                 page="/portal/tickets", now=NOW)
    assert (item.kind, item.score, item.comment, item.page, item.account_id) == ("rating", 4, "<b>nice</b> exports",
                                                                                "/portal/tickets", acc.id)
    assert session.scalar(select(AuditLog.action).where(AuditLog.entity == "feedback_item",
                                                        AuditLog.entity_id == str(item.id))) == "feedback.rating"
    for bad in (0, 6, "five"):
        with pytest.raises(FeedbackError, match="score"):
            service.submit_rating(session=session, actor=customer, score=bad, now=NOW)


def test_staff_cannot_post_portal_feedback(session, make_user):
    pm = make_user("pm")
    with pytest.raises(PermissionDenied):
        service.submit_rating(session=session, actor=pm, score=5, now=NOW)


def test_nps_offered_at_most_once_per_90_days(session, make_account, make_customer):
    acc = make_account("acme")
    customer = make_customer(acc)
    with pytest.raises(FeedbackError, match="no NPS survey"):
        service.submit_nps(session=session, actor=customer, score=9, now=NOW)
    offer = service.nps_offer(session=session, contact_id=customer.contact_id, now=NOW)
    assert offer is not None
    assert service.nps_offer(session=session, contact_id=customer.contact_id, now=NOW + timedelta(days=1)).id == offer.id
    service.submit_nps(session=session, actor=customer, score=9, comment="why not", now=NOW + timedelta(days=1))
    assert service.nps_offer(session=session, contact_id=customer.contact_id, now=NOW + timedelta(days=89)) is None
    with pytest.raises(FeedbackError, match="no NPS survey"):
        service.submit_nps(session=session, actor=customer, score=3, now=NOW + timedelta(days=2))
    # Dismissing also counts as the offer of the period.
    again = service.nps_offer(session=session, contact_id=customer.contact_id, now=NOW + timedelta(days=91))
    assert again is not None and again.id != offer.id
    service.dismiss_nps(session=session, actor=customer, now=NOW + timedelta(days=92))
    assert service.nps_offer(session=session, contact_id=customer.contact_id, now=NOW + timedelta(days=100)) is None


def test_detractor_from_paying_account_opens_followup_for_owner(session, make_account, make_customer, make_user):
    owner = make_user("support_lead")
    paying = make_account("paying", mrr=250, owner=owner)
    free = make_account("free", plan="free", mrr=0, owner=owner)
    c1, c2 = make_customer(paying), make_customer(free)
    for c in (c1, c2):
        service.nps_offer(session=session, contact_id=c.contact_id, now=NOW)
    service.submit_nps(session=session, actor=c1, score=6, comment="slow", now=NOW)
    service.submit_nps(session=session, actor=c2, score=2, now=NOW)
    fus = session.scalars(select(DetractorFollowUp)).all()
    assert [(f.account_id, f.owner_user_id, f.status) for f in fus] == [(paying.id, owner.id, "open")]
    mail = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "detractor_followup")).all()
    assert len(mail) == 1 and mail[0].to_addr == owner.email and "slow" in mail[0].body
    other = make_user("agent")
    with pytest.raises(PermissionDenied):
        service.complete_followup(session=session, actor=other, followup_id=fus[0].id, now=NOW)
    with pytest.raises(FeedbackError, match="what was done"):
        service.complete_followup(session=session, actor=owner, followup_id=fus[0].id, note="  ", now=NOW)
    done = service.complete_followup(session=session, actor=owner, followup_id=fus[0].id, note="called them",
                                     now=NOW + timedelta(hours=5))
    assert done.status == "done" and done.done_at - done.opened_at == timedelta(hours=5)
    with pytest.raises(FeedbackError, match="already done"):
        service.complete_followup(session=session, actor=owner, followup_id=fus[0].id, now=NOW)


def test_promoter_opens_no_followup(session, make_account, make_customer):
    c = make_customer(make_account("acme", mrr=100))
    service.nps_offer(session=session, contact_id=c.contact_id, now=NOW)
    service.submit_nps(session=session, actor=c, score=7, now=NOW)
    assert session.scalars(select(DetractorFollowUp)).all() == []


def test_csat_request_queues_mail_and_prompt_then_one_changeable_rating(session, make_account, make_customer,
                                                                         make_ticket):
    from core.accounts.models import Contact

    acc = make_account("acme")
    customer = make_customer(acc, language="es")
    contact = session.get(Contact, customer.contact_id)
    ticket = make_ticket(acc, requester=contact, solved_at=NOW - timedelta(hours=1), subject="La exportación falla")
    req = service.request_csat(session=session, ticket=ticket, now=NOW)
    assert service.request_csat(session=session, ticket=ticket, now=NOW).id == req.id  # once per ticket
    mails = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "csat_request")).all()
    assert len(mails) == 1 and mails[0].to_addr == contact.email and f"csat={ticket.id}" in mails[0].body
    assert "¿Qué tal" in mails[0].subject
    prompts = service.csat_prompts(session=session, contact_id=contact.id, now=NOW)
    assert [(p["ticket_id"], p["score"]) for p in prompts] == [(ticket.id, None)]

    item = service.submit_csat(session=session, actor=customer, ticket_id=ticket.id, score=2, now=NOW)
    assert session.get(CsatRequest, req.id).answered_at == NOW
    changed = service.submit_csat(session=session, actor=customer, ticket_id=ticket.id, score=5,
                                  comment="they fixed it", now=NOW + timedelta(days=6))
    assert changed.id == item.id and changed.score == 5
    assert session.scalar(select(FeedbackItem.score).where(FeedbackItem.ticket_id == ticket.id)) == 5
    assert [p["score"] for p in service.csat_prompts(session=session, contact_id=contact.id,
                                                     now=NOW + timedelta(days=6))] == [5]
    with pytest.raises(FeedbackError, match="no longer be changed"):
        service.submit_csat(session=session, actor=customer, ticket_id=ticket.id, score=1, now=NOW + timedelta(days=8))
    assert service.csat_prompts(session=session, contact_id=contact.id, now=NOW + timedelta(days=8)) == []


def test_csat_only_for_own_solved_tickets(session, make_account, make_customer, make_ticket):
    acc, other = make_account("acme"), make_account("other")
    from core.accounts.models import Contact

    customer = make_customer(acc)
    me = session.get(Contact, customer.contact_id)
    open_ticket = make_ticket(acc, status="open", requester=me)
    foreign = make_ticket(other)
    colleagues = make_ticket(acc, solved_at=NOW - timedelta(hours=2))  # same company, someone else's request
    with pytest.raises(FeedbackError, match="not solved"):
        service.submit_csat(session=session, actor=customer, ticket_id=open_ticket.id, score=5, now=NOW)
    for ticket in (foreign, colleagues):
        with pytest.raises(FeedbackError, match="not one of your tickets"):
            service.submit_csat(session=session, actor=customer, ticket_id=ticket.id, score=5, now=NOW)
    service.request_csat(session=session, ticket=colleagues, now=NOW)
    assert service.csat_prompts(session=session, contact_id=me.id, now=NOW) == []  # not offered to rate either
    assert service.csat_waiting(session=session, contact_id=me.id) == 0
    assert session.scalars(select(FeedbackItem)).all() == []


def test_roadmap_linking_needs_manage_roadmap(session, make_account, make_customer, make_user, make_ticket):
    acc = make_account("acme")
    customer = make_customer(acc)
    item = service.submit_rating(session=session, actor=customer, score=2, comment="need SSO", now=NOW)
    pm, lead = make_user("pm"), make_user("support_lead")
    with pytest.raises(PermissionDenied):
        service.create_roadmap_item(session=session, actor=lead, title="SSO")
    road = service.create_roadmap_item(session=session, actor=pm, title="SSO", now=NOW)
    with pytest.raises(PermissionDenied):
        service.link_feedback(session=session, actor=lead, roadmap_item_id=road.id, feedback_item_id=item.id)
    link = service.link_feedback(session=session, actor=pm, roadmap_item_id=road.id, feedback_item_id=item.id)
    assert service.link_feedback(session=session, actor=pm, roadmap_item_id=road.id, feedback_item_id=item.id).id == link.id
    ticket = make_ticket(acc, category="feature", status="open")
    service.link_ticket(session=session, actor=pm, roadmap_item_id=road.id, ticket_id=ticket.id)
    with pytest.raises(FeedbackError, match="future"):
        service.set_roadmap_status(session=session, actor=pm, roadmap_item_id=road.id, status="shipped",
                                   shipped_at=NOW + timedelta(days=1), now=NOW)
    shipped = service.set_roadmap_status(session=session, actor=pm, roadmap_item_id=road.id, status="shipped", now=NOW)
    assert shipped.shipped_at == NOW
    back = service.set_roadmap_status(session=session, actor=pm, roadmap_item_id=road.id, status="in_progress", now=NOW)
    assert back.shipped_at is None
    with pytest.raises(FeedbackError, match="status"):
        service.set_roadmap_status(session=session, actor=pm, roadmap_item_id=road.id, status="done", now=NOW)


def test_solving_a_ticket_through_the_ticket_service_requests_csat(session, make_account, make_customer, make_ticket,
                                                                  make_user):
    from core.accounts.models import Contact
    from core.tickets import service as tickets

    acc = make_account("acme")
    customer = make_customer(acc)
    agent = make_user("agent")
    ticket = make_ticket(acc, status="open", requester=session.get(Contact, customer.contact_id))
    session.commit()
    tickets.change_status(session=session, actor=agent, ticket_id=ticket.id, version=ticket.version, status="solved")
    session.commit()
    req = session.scalar(select(CsatRequest).where(CsatRequest.ticket_id == ticket.id))
    assert req is not None and req.mail_id is not None
    assert [p["ticket_id"] for p in service.csat_prompts(session=session, contact_id=customer.contact_id)] == [ticket.id]


def test_a_detractor_follow_up_is_posted_to_slack_once_with_its_own_dedup_key(session, make_account, make_customer,
                                                                               make_user, monkeypatch):
    from core.config import get_settings
    from core.monitoring.models import NotificationAttempt
    from tests.monitoring.conftest import Capture

    owner = make_user("support_lead")
    acc = make_account("paying", mrr=250, owner=owner)
    c1, c2, c3, c4 = (make_customer(acc) for _ in range(4))
    for c in (c1, c2, c3, c4):
        service.nps_offer(session=session, contact_id=c.contact_id, now=NOW)

    # Without a webhook: the owner is mailed and the notification log gets no "not configured" noise.
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    get_settings.cache_clear()
    service.submit_nps(session=session, actor=c1, score=4, comment="quiet", now=NOW)
    assert session.scalars(select(NotificationAttempt)).all() == []
    assert len(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "detractor_followup")).all()) == 1

    slack = Capture()
    try:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url + "/hooks/T000")
        get_settings.cache_clear()
        service.submit_nps(session=session, actor=c2, score=2, comment="*bold* <!channel> too slow", now=NOW)
        service.submit_nps(session=session, actor=c3, score=9, now=NOW)          # a promoter: nothing posted
        fu2 = session.scalars(select(DetractorFollowUp).order_by(DetractorFollowUp.id)).all()[-1]
        assert len(slack.requests) == 1 and slack.requests[0]["path"] == "/hooks/T000"
        posted = slack.requests[0]["json"]
        assert f"Detractor follow-up #{fu2.id}: Paying gave NPS 2" in posted["text"]
        body = posted["blocks"][1]["text"]
        assert body["type"] == "plain_text" and "*bold* <!channel> too slow" in body["text"]   # the comment as text
        assert f"Owner: {owner.name}" in body["text"]
        rows = session.scalars(select(NotificationAttempt)).all()
        assert [(r.channel, r.status, r.dedup_key) for r in rows] == [("slack", "sent", f"detractor-followup-{fu2.id}")]
        # Still mailed to the owner as well.
        assert len(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "detractor_followup")).all()) == 2
        # Slack failing: one failed attempt in the log, and the answer and its follow-up are kept.
        slack.responses = [500]
        service.submit_nps(session=session, actor=c4, score=0, now=NOW)
        fu3 = session.scalars(select(DetractorFollowUp).order_by(DetractorFollowUp.id)).all()[-1]
        failed = session.scalars(select(NotificationAttempt).where(NotificationAttempt.status == "failed")).all()
        assert [(r.http_status, r.dedup_key) for r in failed] == [(500, f"detractor-followup-{fu3.id}")]
    finally:
        slack.close()
        get_settings.cache_clear()
