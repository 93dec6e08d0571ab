"""Collecting feedback (rating, NPS, CSAT), CSAT requests, roadmap links, detractor follow-ups, subscription events."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.accounts.models import Account, AccountStatus, Contact
from core.audit.service import record
from core.auth.roles import Permission, has_permission, require
from core.feedback.models import (SCORE_RANGE, CsatRequest, DetractorFollowUp, FeedbackItem, FeedbackKind,
                                  FeedbackSource, FollowUpStatus, NpsSurveyOffer, RoadmapItem, RoadmapLink,
                                  RoadmapStatus, SubscriptionEvent, SubscriptionEventType)
from core.tickets.models import Ticket

NPS_INTERVAL = timedelta(days=90)
CSAT_CHANGE_WINDOW = timedelta(days=7)
MAX_COMMENT = 5000
MAX_PAGE = 2000
DETRACTOR_MAX = 6
SOLVED_STATUSES = ("solved", "closed")
# Other domains react to a roadmap item's status change: "module:function", called as
# function(session=..., item=..., before=..., actor=...) in the same transaction (a missing domain is skipped).
ROADMAP_HOOKS = ["core.loop.roadmap:on_roadmap_status"]


class FeedbackError(ValueError):
    """Feedback could not be stored or changed; the message says why."""


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(timezone.utc)


# --- validation shared with the importer --------------------------------------------------------------

def check_kind(kind: str) -> FeedbackKind:
    """The kind as an enum, or FeedbackError naming the allowed kinds."""
    try:
        return FeedbackKind(str(kind).strip().lower())
    except ValueError:
        raise FeedbackError(f"kind: {kind!r} is not one of rating, nps, csat") from None


def check_score(kind: FeedbackKind, score) -> int:
    """The score as an int within the kind's range, or FeedbackError."""
    lo, hi = SCORE_RANGE[kind]
    if isinstance(score, bool) or not isinstance(score, (int, float, str)):
        raise FeedbackError(f"score: {score!r} is not a whole number from {lo} to {hi}")
    try:
        value = int(str(score).strip())
    except ValueError:
        raise FeedbackError(f"score: {score!r} is not a whole number from {lo} to {hi}") from None
    if not lo <= value <= hi:
        raise FeedbackError(f"score: {value} is out of range for {kind.value} ({lo} to {hi})")
    return value


def check_comment(comment: str | None) -> str:
    """The comment stripped, or FeedbackError when too long."""
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT:
        raise FeedbackError(f"comment: at most {MAX_COMMENT} characters ({len(text)} given)")
    return text


def _portal_contact(session: Session, actor) -> Contact:
    require(actor, Permission.USE_PORTAL)
    contact = session.get(Contact, actor.contact_id) if getattr(actor, "contact_id", None) else None
    if contact is None:
        raise FeedbackError("this login is not linked to a customer contact")
    return contact


# --- collecting ---------------------------------------------------------------------------------------

def submit_rating(*, session: Session, actor, score: int, comment: str = "", page: str | None = None,
                  now: datetime | None = None) -> FeedbackItem:
    """Store a portal star rating (1-5) with its comment and the page it was given on."""
    contact = _portal_contact(session, actor)
    score = check_score(FeedbackKind.RATING, score)
    page = (page or "").strip()[:MAX_PAGE] or None
    item = FeedbackItem(kind=FeedbackKind.RATING, score=score, comment=check_comment(comment), page=page,
                        language=contact.language, source=FeedbackSource.PORTAL, account_id=contact.account_id,
                        contact_id=contact.id, created_at=_now(now), updated_at=_now(now))
    session.add(item)
    session.flush()
    record(session=session, actor=actor, action="feedback.rating", entity="feedback_item", entity_id=item.id,
           details={"score": score, "page": page})
    return item


def nps_offer(*, session: Session, contact_id: int, now: datetime | None = None, create: bool = True) -> NpsSurveyOffer | None:
    """The contact's open NPS offer; a new one when none was made in the last 90 days (and create is set)."""
    now = _now(now)
    q = (select(NpsSurveyOffer).where(NpsSurveyOffer.contact_id == contact_id)
         .order_by(NpsSurveyOffer.offered_at.desc()).limit(1))
    last = session.scalars(q if create else q.with_for_update()).first()  # answering locks the offer
    if last is not None and last.offered_at > now - NPS_INTERVAL:
        return last if last.answered_at is None and last.dismissed_at is None else None
    answered_recently = session.scalar(
        select(FeedbackItem.id).where(FeedbackItem.contact_id == contact_id, FeedbackItem.kind == FeedbackKind.NPS,
                                      FeedbackItem.created_at > now - NPS_INTERVAL).limit(1))
    if answered_recently or not create or session.get(Contact, contact_id) is None:
        return None
    offer = NpsSurveyOffer(contact_id=contact_id, offered_at=now)
    session.add(offer)
    session.flush()
    return offer


def submit_nps(*, session: Session, actor, score: int, comment: str = "", now: datetime | None = None) -> FeedbackItem:
    """Answer the contact's open NPS survey (0-10 and why); a detractor from a paying account opens a follow-up."""
    now = _now(now)
    contact = _portal_contact(session, actor)
    score = check_score(FeedbackKind.NPS, score)
    offer = nps_offer(session=session, contact_id=contact.id, now=now, create=False)
    if offer is None:
        raise FeedbackError("no NPS survey is open for you (one is offered at most every 90 days)")
    item = FeedbackItem(kind=FeedbackKind.NPS, score=score, comment=check_comment(comment), page="nps-survey",
                        language=contact.language, source=FeedbackSource.PORTAL, account_id=contact.account_id,
                        contact_id=contact.id, created_at=now, updated_at=now)
    session.add(item)
    session.flush()
    offer.answered_at, offer.feedback_item_id = now, item.id
    record(session=session, actor=actor, action="feedback.nps", entity="feedback_item", entity_id=item.id,
           details={"score": score})
    open_followup_if_detractor(session=session, item=item, now=now)
    return item


def dismiss_nps(*, session: Session, actor, now: datetime | None = None) -> None:
    """Close the contact's open NPS survey without answering (not offered again for 90 days)."""
    now = _now(now)
    contact = _portal_contact(session, actor)
    offer = nps_offer(session=session, contact_id=contact.id, now=now, create=False)
    if offer is not None:
        offer.dismissed_at = now
        record(session=session, actor=actor, action="feedback.nps_dismiss", entity="nps_survey_offer", entity_id=offer.id)
        session.flush()


def _csat_ticket(session: Session, contact: Contact, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    # Satisfaction is the requester's to give: a colleague's rating would be credited to the wrong person.
    if ticket is None or ticket.account_id != contact.account_id or ticket.requester_id != contact.id:
        raise FeedbackError(f"ticket AC-{ticket_id} is not one of your tickets")
    if ticket.status not in SOLVED_STATUSES:
        raise FeedbackError(f"ticket AC-{ticket_id} is not solved yet")
    return ticket


def submit_csat(*, session: Session, actor, ticket_id: int, score: int, comment: str = "",
                now: datetime | None = None) -> FeedbackItem:
    """Rate a solved ticket (1-5); one rating per ticket, changeable for 7 days after it was first given."""
    now = _now(now)
    contact = _portal_contact(session, actor)
    ticket = _csat_ticket(session, contact, ticket_id)
    score = check_score(FeedbackKind.CSAT, score)
    comment = check_comment(comment)
    item = session.scalar(select(FeedbackItem).where(FeedbackItem.kind == FeedbackKind.CSAT,
                                                     FeedbackItem.ticket_id == ticket.id).with_for_update())
    if item is not None:
        if now - item.created_at > CSAT_CHANGE_WINDOW:
            raise FeedbackError(f"the rating of {ticket.reference} can no longer be changed (7 days have passed)")
        before = item.score
        item.score, item.comment, item.updated_at = score, comment, now
        session.flush()
        record(session=session, actor=actor, action="feedback.csat_change", entity="feedback_item", entity_id=item.id,
               details={"ticket_id": ticket.id, "from": before, "to": score})
        return item
    item = FeedbackItem(kind=FeedbackKind.CSAT, score=score, comment=comment, page=f"ticket/{ticket.id}",
                        language=contact.language, source=FeedbackSource.PORTAL, account_id=ticket.account_id,
                        contact_id=contact.id, ticket_id=ticket.id, created_at=now, updated_at=now)
    try:
        with session.begin_nested():  # a rating sent twice at once: the database's one-CSAT-per-ticket rule decides
            session.add(item)
            session.flush()
    except IntegrityError:
        raise FeedbackError(f"{ticket.reference} was just rated; reload to change the rating") from None
    req = session.scalar(select(CsatRequest).where(CsatRequest.ticket_id == ticket.id))
    if req is not None and req.answered_at is None:
        req.answered_at = now
    record(session=session, actor=actor, action="feedback.csat", entity="feedback_item", entity_id=item.id,
           details={"ticket_id": ticket.id, "score": score})
    return item


def request_csat(*, session: Session, ticket: Ticket, now: datetime | None = None) -> CsatRequest:
    """Ask the requester to rate a just-solved ticket: a mail in the outbox and a portal prompt (once per ticket)."""
    now = _now(now)
    existing = session.scalar(select(CsatRequest).where(CsatRequest.ticket_id == ticket.id))
    if existing is not None:
        return existing
    contact = session.get(Contact, ticket.requester_id) if ticket.requester_id else None
    req = CsatRequest(ticket_id=ticket.id, contact_id=contact.id if contact else None, requested_at=now)
    if contact is not None:
        req.mail_id = _queue_csat_mail(session, ticket, contact)
    session.add(req)
    session.flush()
    record(session=session, actor="system", action="feedback.csat_request", entity="ticket", entity_id=ticket.id,
           details={"contact_id": req.contact_id, "mail_id": req.mail_id})
    return req


def _queue_csat_mail(session: Session, ticket: Ticket, contact: Contact) -> int:
    from core.config import get_settings
    from core.mail.service import queue_mail

    link = f"{get_settings().app_url.rstrip('/')}/portal?csat={ticket.id}"
    if (contact.language or "en").startswith("es"):
        subject = f"¿Qué tal lo hicimos? {ticket.reference}: {ticket.subject}"
        body = (f"Hola {contact.name},\n\nHemos resuelto su ticket {ticket.reference} \"{ticket.subject}\".\n"
                f"¿Nos dice qué tal lo hicimos? Valórelo de 1 a 5 en el portal:\n{link}\n\n"
                "Puede cambiar su valoración durante 7 días.\n")
    else:
        subject = f"How did we do? {ticket.reference}: {ticket.subject}"
        body = (f"Hello {contact.name},\n\nWe solved your ticket {ticket.reference} \"{ticket.subject}\".\n"
                f"Would you rate our help from 1 to 5 in the portal?\n{link}\n\n"
                "You can change your rating for 7 days.\n")
    msg = queue_mail(session=session, to=contact.email, subject=subject, body=body, kind="csat_request",
                     ticket_id=ticket.id)
    return msg.id


def csat_prompts(*, session: Session, contact_id: int, now: datetime | None = None, limit: int = 20) -> list[dict]:
    """The solved tickets the contact requested that have a CSAT request: unrated ones, and rated ones still
    changeable (the newest `limit`; csat_waiting() counts all the unrated ones)."""
    now = _now(now)
    contact = session.get(Contact, contact_id)
    if contact is None:
        return []
    rows = session.execute(
        _rateable(select(Ticket.id, Ticket.subject, Ticket.solved_at, FeedbackItem.score, FeedbackItem.comment,
                         FeedbackItem.created_at), contact)
        .where((FeedbackItem.id.is_(None)) | (FeedbackItem.created_at > now - CSAT_CHANGE_WINDOW))
        .order_by(Ticket.solved_at.desc().nulls_last()).limit(limit)).all()
    return [{"ticket_id": r.id, "reference": f"AC-{r.id}", "subject": r.subject, "solved_at": r.solved_at,
             "score": r.score, "comment": r.comment or "",
             "changeable_until": (r.created_at + CSAT_CHANGE_WINDOW) if r.created_at else None} for r in rows]


def csat_waiting(*, session: Session, contact_id: int) -> int:
    """How many of the contact's solved requests still wait for a rating."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        return 0
    return session.scalar(_rateable(select(func.count()).select_from(Ticket), contact)
                          .where(FeedbackItem.id.is_(None)))


def _rateable(query, contact: Contact):
    """`query` over the solved tickets the contact requested that were sent a CSAT request, with their rating
    (if any) outer-joined as FeedbackItem."""
    return (query.join(CsatRequest, CsatRequest.ticket_id == Ticket.id)
            .outerjoin(FeedbackItem, (FeedbackItem.ticket_id == Ticket.id) & (FeedbackItem.kind == FeedbackKind.CSAT))
            .where(Ticket.account_id == contact.account_id, Ticket.requester_id == contact.id,
                   Ticket.status.in_(SOLVED_STATUSES)))


# --- detractor follow-ups -----------------------------------------------------------------------------

def open_followup_if_detractor(*, session: Session, item: FeedbackItem, now: datetime | None = None) -> DetractorFollowUp | None:
    """Open a follow-up for the account owner when item is an NPS of 6 or less from a paying account."""
    if item.kind != FeedbackKind.NPS or item.score > DETRACTOR_MAX:
        return None
    account = session.get(Account, item.account_id)
    if account is None or account.status != AccountStatus.ACTIVE or (account.mrr or 0) <= 0:
        return None
    existing = session.scalar(select(DetractorFollowUp).where(DetractorFollowUp.feedback_item_id == item.id))
    if existing is not None:
        return existing
    fu = DetractorFollowUp(feedback_item_id=item.id, account_id=account.id, owner_user_id=account.owner_user_id,
                           opened_at=now or item.created_at)
    session.add(fu)
    session.flush()
    _mail_owner(session, fu, account, item)
    _notify_team(session, fu, account, item)
    record(session=session, actor="system", action="feedback.followup_open", entity="detractor_followup",
           entity_id=fu.id, details={"account": account.key, "score": item.score, "owner_user_id": account.owner_user_id})
    return fu


def _notify_team(session: Session, fu: DetractorFollowUp, account: Account, item: FeedbackItem) -> None:
    """Post the new follow-up to Slack through the console's notifier (each attempt on the Alerts page's log)."""
    from core.config import get_settings
    from core.monitoring.models import Channel, Severity
    from core.monitoring.notify import notify

    # notify() logs a "not configured" row per call without a webhook; the owner's mail already covers that
    # case, so the log only holds real attempts.
    if not get_settings().slack_webhook_url:
        return
    from core.auth.models import User

    owner = session.get(User, fu.owner_user_id) if fu.owner_user_id else None
    # One attempt: the customer's answer is waiting on this transaction, and the owner's mail is the durable copy.
    notify(session=session, channel=Channel.SLACK, severity=Severity.WARNING, dedup_key=f"detractor-followup-{fu.id}",
           subject=f"Detractor follow-up #{fu.id}: {account.name} gave NPS {item.score}",
           body=f"{account.name} ({account.plan}, MRR {account.mrr}) answered {item.score} of 10.\n"
                f"Comment: {item.comment or '(none)'}\n"
                f"Owner: {owner.name if owner else 'nobody yet'}\n"
                f"{get_settings().app_url.rstrip('/')}/feedback",
           source="aftercare-feedback", retries=1)


def _mail_owner(session: Session, fu: DetractorFollowUp, account: Account, item: FeedbackItem) -> None:
    from core.auth.models import User
    from core.config import get_settings
    from core.mail.service import queue_mail

    owner = session.get(User, fu.owner_user_id) if fu.owner_user_id else None
    if owner is None or not owner.active or not owner.email:
        return
    contact = session.get(Contact, item.contact_id) if item.contact_id else None
    body = (f"{account.name} ({account.plan}, MRR {account.mrr}) answered the NPS survey with {item.score} of 10"
            f"{' (' + contact.name + ', ' + contact.email + ')' if contact else ''}.\n\n"
            f"Their comment:\n{item.comment or '(none)'}\n\n"
            f"Please get in touch and mark follow-up #{fu.id} done on the Feedback page when you have:\n"
            f"{get_settings().app_url.rstrip('/')}/feedback\n")
    queue_mail(session=session, to=owner.email, subject=f"Detractor follow-up: {account.name} gave NPS {item.score}",
               body=body, kind="detractor_followup")


def complete_followup(*, session: Session, actor, followup_id: int, note: str = "", now: datetime | None = None) -> DetractorFollowUp:
    """Mark a detractor follow-up done (its owner, or anyone who may view feedback)."""
    fu = session.get(DetractorFollowUp, followup_id)
    if fu is None:
        raise FeedbackError(f"no follow-up {followup_id}")
    is_owner = fu.owner_user_id is not None and getattr(actor, "id", None) == fu.owner_user_id
    # The owner (an agent or lead) closes it as part of their ticket work; others need the feedback view.
    require(actor, Permission.WORK_TICKETS if is_owner and has_permission(actor.role, Permission.WORK_TICKETS)
            else Permission.VIEW_FEEDBACK)
    if fu.status == FollowUpStatus.DONE:
        raise FeedbackError(f"follow-up {followup_id} is already done")
    if not (note or "").strip():
        raise FeedbackError("Say what was done (a call, a fix, a credit) before marking the follow-up done.")
    fu.status, fu.done_at, fu.done_by, fu.note = FollowUpStatus.DONE, _now(now), actor.id, check_comment(note)
    session.flush()
    record(session=session, actor=actor, action="feedback.followup_done", entity="detractor_followup", entity_id=fu.id,
           details={"hours": round((fu.done_at - fu.opened_at).total_seconds() / 3600, 2)})
    return fu


# --- roadmap ------------------------------------------------------------------------------------------

def create_roadmap_item(*, session: Session, actor, title: str, description: str = "",
                        status: str = RoadmapStatus.PLANNED, shipped_at: datetime | None = None,
                        now: datetime | None = None) -> RoadmapItem:
    """Add a roadmap item (planned, in progress or shipped)."""
    require(actor, Permission.MANAGE_ROADMAP)
    title = (title or "").strip()
    if not 1 <= len(title) <= 200:
        raise FeedbackError("title: 1 to 200 characters")
    status = _check_status(status)
    now = _now(now)
    if status == RoadmapStatus.SHIPPED:
        shipped_at = shipped_at or now
        if shipped_at > now:
            raise FeedbackError("shipped date: cannot be in the future")
    else:
        shipped_at = None
    item = RoadmapItem(title=title, description=(description or "").strip(), status=status, shipped_at=shipped_at,
                       created_by=actor.id, created_at=now, updated_at=now)
    session.add(item)
    session.flush()
    record(session=session, actor=actor, action="roadmap.create", entity="roadmap_item", entity_id=item.id,
           details={"title": title, "status": status})
    return item


def _check_status(status: str) -> RoadmapStatus:
    try:
        return RoadmapStatus(status)
    except ValueError:
        raise FeedbackError(f"status: {status!r} is not one of planned, in_progress, shipped") from None


def set_roadmap_status(*, session: Session, actor, roadmap_item_id: int, status: str,
                       shipped_at: datetime | None = None, now: datetime | None = None) -> RoadmapItem:
    """Move a roadmap item to planned, in progress or shipped (with its ship date, today by default)."""
    require(actor, Permission.MANAGE_ROADMAP)
    item = session.get(RoadmapItem, roadmap_item_id)
    if item is None:
        raise FeedbackError(f"no roadmap item {roadmap_item_id}")
    status, now = _check_status(status), _now(now)
    before = item.status
    if status == RoadmapStatus.SHIPPED:
        shipped_at = shipped_at or item.shipped_at or now
        if shipped_at > now:
            raise FeedbackError("shipped date: cannot be in the future")
        item.shipped_at = shipped_at
    else:
        item.shipped_at = None
    item.status, item.updated_at = status, now
    session.flush()
    record(session=session, actor=actor, action="roadmap.status", entity="roadmap_item", entity_id=item.id,
           details={"from": before, "to": status, "shipped_at": item.shipped_at})
    _run_roadmap_hooks(session=session, item=item, before=before, actor=actor)
    return item


def _run_roadmap_hooks(*, session: Session, item: RoadmapItem, before: str | None, actor) -> None:
    import importlib

    for spec in ROADMAP_HOOKS:
        module, func = spec.split(":")
        try:
            fn = getattr(importlib.import_module(module), func)
        except (ImportError, AttributeError):
            continue
        fn(session=session, item=item, before=before, actor=actor)


def link_feedback(*, session: Session, actor, roadmap_item_id: int, feedback_item_id: int) -> RoadmapLink:
    """Link a feedback item to a roadmap item (linking twice is a no-op)."""
    return _link(session, actor, roadmap_item_id, feedback_item_id=feedback_item_id)


def link_ticket(*, session: Session, actor, roadmap_item_id: int, ticket_id: int) -> RoadmapLink:
    """Link a (feature) ticket to a roadmap item (linking twice is a no-op)."""
    return _link(session, actor, roadmap_item_id, ticket_id=ticket_id)


def _link(session: Session, actor, roadmap_item_id: int, *, feedback_item_id: int | None = None,
          ticket_id: int | None = None) -> RoadmapLink:
    require(actor, Permission.MANAGE_ROADMAP)
    if session.get(RoadmapItem, roadmap_item_id) is None:
        raise FeedbackError(f"no roadmap item {roadmap_item_id}")
    if feedback_item_id is not None:
        if session.get(FeedbackItem, feedback_item_id) is None:
            raise FeedbackError(f"no feedback item {feedback_item_id}")
        where = RoadmapLink.feedback_item_id == feedback_item_id
    else:
        if session.get(Ticket, ticket_id) is None:
            raise FeedbackError(f"no ticket AC-{ticket_id}")
        where = RoadmapLink.ticket_id == ticket_id
    existing = session.scalar(select(RoadmapLink).where(RoadmapLink.roadmap_item_id == roadmap_item_id, where))
    if existing is not None:
        return existing
    link = RoadmapLink(roadmap_item_id=roadmap_item_id, feedback_item_id=feedback_item_id, ticket_id=ticket_id,
                       linked_by=actor.id)
    session.add(link)
    session.flush()
    record(session=session, actor=actor, action="roadmap.link", entity="roadmap_item", entity_id=roadmap_item_id,
           details={"feedback_item_id": feedback_item_id, "ticket_id": ticket_id})
    return link


def unlink(*, session: Session, actor, link_id: int) -> None:
    """Remove a roadmap link."""
    require(actor, Permission.MANAGE_ROADMAP)
    link = session.get(RoadmapLink, link_id)
    if link is None:
        raise FeedbackError(f"no roadmap link {link_id}")
    record(session=session, actor=actor, action="roadmap.unlink", entity="roadmap_item", entity_id=link.roadmap_item_id,
           details={"feedback_item_id": link.feedback_item_id, "ticket_id": link.ticket_id})
    session.delete(link)
    session.flush()


# --- subscriptions ------------------------------------------------------------------------------------

def check_mrr(value) -> Decimal:
    """MRR as a non-negative Decimal, or FeedbackError."""
    try:
        mrr = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise FeedbackError(f"mrr: {value!r} is not a number") from None
    if not mrr.is_finite() or mrr < 0:
        raise FeedbackError(f"mrr: {value!r} must be zero or more")
    return mrr.quantize(Decimal("0.01"))


def add_subscription_event(*, session: Session, account: Account, type: str, at: datetime, mrr) -> SubscriptionEvent:
    """Append a subscription event for account (idempotent on account, type and time)."""
    try:
        etype = SubscriptionEventType(type)
    except ValueError:
        raise FeedbackError(f"event type: {type!r} is not one of "
                            f"{', '.join(t.value for t in SubscriptionEventType)}") from None
    existing = session.scalar(select(SubscriptionEvent).where(SubscriptionEvent.account_id == account.id,
                                                              SubscriptionEvent.type == etype,
                                                              SubscriptionEvent.at == at))
    if existing is not None:
        existing.mrr = check_mrr(mrr)
        return existing
    ev = SubscriptionEvent(account_id=account.id, type=etype, at=at, mrr=check_mrr(mrr))
    session.add(ev)
    session.flush()
    return ev


def sync_account_from_events(*, session: Session, account: Account) -> Account:
    """Set the account's mrr, status, started_at and cancelled_at from its subscription events."""
    events = session.scalars(select(SubscriptionEvent).where(SubscriptionEvent.account_id == account.id)
                             .order_by(SubscriptionEvent.at, SubscriptionEvent.id)).all()
    if not events:
        return account
    starts = [e.at for e in events if e.type == SubscriptionEventType.STARTED]
    account.started_at = min(starts) if starts else events[0].at
    last = events[-1]
    if last.type == SubscriptionEventType.CANCELLED:
        account.status, account.cancelled_at = AccountStatus.CHURNED, last.at
    else:
        account.status, account.cancelled_at, account.mrr = AccountStatus.ACTIVE, None, last.mrr
    session.flush()
    return account
