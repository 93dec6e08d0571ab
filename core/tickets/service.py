"""Ticket services: create, reassign, change status/category/priority, reply, note; portal access."""

from __future__ import annotations

import importlib
import logging
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.accounts.models import Account, Contact
from core.audit.service import record
from core.auth.models import Team, User
from core.auth.roles import Permission, PermissionDenied, Role, require
from core.config import get_settings
from core.mail.service import queue_mail
from core.tickets import routing
from core.tickets.enums import OPEN_STATUSES, Category, CategorySource, Channel, EventKind, Priority, TicketStatus
from core.tickets.intake import IntakeError, TicketInput, validate
from core.tickets.models import Ticket, TicketEvent

log = logging.getLogger(__name__)

# Other domains react to ticket changes without the ticket code importing them: "module:function",
# called as function(session=..., ticket=...) after every change, in the same transaction.
CHANGE_HOOKS = ["core.sla.service:refresh_ticket_sla"]
SOLVED_HOOKS = ["core.feedback.service:request_csat"]
# The same reaction for many new tickets at once (bulk import): function(session=..., ticket_ids=[...]).
BATCH_HOOKS = ["core.sla.service:refresh_many"]


class TicketNotFound(LookupError):
    """No such ticket (or, for a customer, not one of their account's tickets)."""


class StaleTicket(Exception):
    """The ticket changed since the form loaded it; `ticket` is the current state."""

    def __init__(self, ticket: Ticket):
        self.ticket = ticket
        # A plain snapshot survives the rollback that follows (the ORM object is expired by it).
        self.current = {k: getattr(ticket, k) for k in
                        ("id", "status", "priority", "category", "team_id", "assignee_id", "version")}
        super().__init__(f"{ticket.reference} was changed by someone else (now version {ticket.version}); "
                         "review the current state and try again")


class TicketError(ValueError):
    """A change that makes no sense for this ticket (e.g. replying to a closed ticket)."""


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------- creation

def create_ticket(*, session: Session, actor, data: dict | TicketInput, channel: Channel,
                  classification=None, run_hooks: bool = True) -> Ticket:
    """Validate, categorise, prioritise and route a new ticket; queue the confirmation mail.

    A bulk caller passes run_hooks=False and calls after_bulk_create() once for the batch."""
    inp = data if isinstance(data, TicketInput) else validate(data)
    account, contact = _requester(session=session, actor=actor, inp=inp, channel=channel)
    from core.tickets import classify as clf
    from core.tickets.rules import suggest_priority, team_for

    if inp.category is not None:
        category, confidence, source = inp.category, 1.0, CategorySource.IMPORT
        decided = {}
    else:
        c = classification or clf.classify(subject=inp.subject, description=inp.description,
                                           reproducible=inp.reproducible)
        category, confidence, source = Category(c.category), float(c.confidence), CategorySource(c.source)
        decided = {"llm_error": c.llm_error} if getattr(c, "llm_error", None) else {}
    priority = suggest_priority(category=category, reproducible=inp.reproducible, plan=account.plan)
    team_id = routing.team_id_for(session=session, team_key=team_for(category))
    status = inp.status or TicketStatus.NEW
    assignee_id = None
    if team_id is not None and status in OPEN_STATUSES:
        assignee_id = routing.pick_assignee(session=session, team_id=team_id)
    created = inp.created_at or now_utc()
    ticket = Ticket(
        external_id=inp.external_id, account_id=account.id, requester_id=contact.id if contact else None,
        subject=inp.subject, description=inp.description, reproducible=inp.reproducible, page_url=inp.page_url,
        user_agent=inp.user_agent, language=(contact.language if contact else "en"), channel=channel,
        status=status, priority=priority, category=category, category_source=source,
        category_confidence=round(confidence, 4),
        needs_triage=source != CategorySource.IMPORT and confidence < get_settings().classify_confidence_threshold,
        team_id=team_id, assignee_id=assignee_id, created_at=created, updated_at=created,
        first_response_at=inp.first_response_at, solved_at=inp.solved_at,
    )
    session.add(ticket)
    session.flush()
    actor_user = actor if isinstance(actor, User) and actor.role != Role.CUSTOMER else None
    _event(session, ticket, EventKind.CREATED, at=created, public=True, body=inp.description,
           user=actor_user, contact=contact if actor_user is None else None,
           data={"channel": channel, "category": category, "confidence": round(confidence, 4), "source": source,
                 "priority": priority, **decided})
    if team_id is not None:
        _event(session, ticket, EventKind.ASSIGNED, at=created,
               data={"team_id": team_id, "assignee_id": assignee_id, "auto": True})
    if contact and channel != Channel.IMPORT:
        queue_mail(session=session, to=contact.email, kind="ticket_confirmation", ticket_id=ticket.id,
                   subject=f"[{ticket.reference}] We received your request: {ticket.subject}",
                   body=(f"Hello {contact.name},\n\nThanks for writing to us. Your request {ticket.reference} "
                         f"was filed as a {category.value} ({priority.value} priority) and our "
                         f"{team_for(category)} team has it.\n\nSubject: {ticket.subject}\n\n"
                         "Reply to this message or use the support portal to add details.\n"))
    if isinstance(actor, User):
        record(session=session, actor=actor, action="ticket.create", entity="ticket", entity_id=ticket.id,
               details={"channel": channel, "category": category, "priority": priority})
    if run_hooks:
        _run_hooks(CHANGE_HOOKS, session, ticket)
    return ticket


def after_bulk_create(*, session: Session, ticket_ids: list[int]) -> None:
    """Let other domains react once to a batch of tickets created with run_hooks=False."""
    if not ticket_ids:
        return
    session.flush()
    for spec in BATCH_HOOKS:
        module, func = spec.split(":")
        try:
            fn = getattr(importlib.import_module(module), func)
        except (ImportError, AttributeError):
            continue
        fn(session=session, ticket_ids=ticket_ids)


def _requester(*, session: Session, actor, inp: TicketInput, channel: Channel) -> tuple[Account, Contact | None]:
    if isinstance(actor, User) and actor.role == Role.CUSTOMER:
        require(actor, Permission.USE_PORTAL)
        contact = session.get(Contact, actor.contact_id) if actor.contact_id else None
        if contact is None:
            raise IntakeError({"requester": "your login is not linked to a customer contact"})
        return session.get(Account, contact.account_id), contact
    if isinstance(actor, User):
        require(actor, Permission.CREATE_TICKET_STAFF)
    errors = {}
    contact = None
    if inp.requester_email:
        contact = session.scalar(select(Contact).where(Contact.email == inp.requester_email))
    account = None
    if inp.account:
        account = session.scalar(select(Account).where(Account.key == inp.account))
        if account is None:
            errors["account"] = f"no account {inp.account!r}"
    elif contact is not None:
        account = session.get(Account, contact.account_id)
    else:
        errors["account"] = "Account is required (or a known requester e-mail)"
    if not inp.requester_email:
        errors["requester_email"] = "Requester e-mail is required"
    if errors:
        raise IntakeError(errors)
    if contact is not None and contact.account_id != account.id:
        raise IntakeError({"requester_email": f"{contact.email} belongs to another account"})
    if contact is None:
        contact = Contact(account_id=account.id, email=inp.requester_email,
                          name=inp.requester_email.split("@")[0].replace(".", " ").title())
        session.add(contact)
        session.flush()
    return account, contact


# ---------------------------------------------------------------- reading

def get_ticket(*, session: Session, ticket_id: int, for_update: bool = False) -> Ticket:
    """The ticket with this id, or TicketNotFound."""
    q = select(Ticket).where(Ticket.id == ticket_id)
    if for_update:
        q = q.with_for_update()
    ticket = session.scalar(q)
    if ticket is None:
        raise TicketNotFound(f"no ticket AC-{ticket_id}")
    return ticket


def ticket_for_customer(*, session: Session, actor: User, ticket_id: int) -> Ticket:
    """A ticket of the customer's own account; any other (or missing) ticket is simply not found."""
    require(actor, Permission.USE_PORTAL)
    contact = session.get(Contact, actor.contact_id) if actor.contact_id else None
    ticket = session.get(Ticket, ticket_id)
    if contact is None or ticket is None or ticket.account_id != contact.account_id:
        raise TicketNotFound(f"no ticket AC-{ticket_id}")
    return ticket


def customer_tickets(*, session: Session, actor: User) -> list[Ticket]:
    """The tickets of the customer's account, newest first."""
    require(actor, Permission.USE_PORTAL)
    contact = session.get(Contact, actor.contact_id) if actor.contact_id else None
    if contact is None:
        return []
    return list(session.scalars(select(Ticket).where(Ticket.account_id == contact.account_id)
                                .order_by(Ticket.created_at.desc()).limit(500)))


def timeline(*, session: Session, ticket_id: int, public_only: bool = False) -> list[TicketEvent]:
    """The ticket's events, oldest first (only public ones for customers)."""
    q = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.at, TicketEvent.id)
    if public_only:
        q = q.where(TicketEvent.public.is_(True))
    return list(session.scalars(q))


# ---------------------------------------------------------------- staff changes

def _load_for_change(session: Session, ticket_id: int, version: int | None) -> Ticket:
    ticket = get_ticket(session=session, ticket_id=ticket_id, for_update=True)
    if version is not None and ticket.version != version:
        raise StaleTicket(ticket)
    return ticket


def _flush(session: Session, ticket: Ticket) -> None:
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise StaleTicket(get_ticket(session=session, ticket_id=ticket.id)) from None


def reassign(*, session: Session, actor: User, ticket_id: int, version: int, team_id: int | None = None,
             assignee_id: int | None = None, reason: str | None = None) -> Ticket:
    """Move a ticket to a team and/or agent, refusing when it changed since `version` was read."""
    require(actor, Permission.REASSIGN_TICKETS)
    ticket = _load_for_change(session, ticket_id, version)
    _check_open(ticket)
    if assignee_id is not None:
        agent = session.get(User, assignee_id)
        if agent is None or not agent.active or agent.role not in (Role.AGENT, Role.SUPPORT_LEAD, Role.ADMIN):
            raise TicketError("the assignee must be an active agent")
        if team_id is None:
            team_id = agent.team_id
        elif agent.team_id is not None and agent.team_id != team_id:
            team = session.get(Team, team_id)
            agent_team = session.get(Team, agent.team_id)
            raise TicketError(f"{agent.name} works in {agent_team.name}, not {team.name if team else team_id}: "
                              "pick one of that team's agents, or nobody to leave it in the team queue")
    if team_id is not None and session.get(Team, team_id) is None:
        raise TicketError(f"no team {team_id}")
    before = {"team_id": ticket.team_id, "assignee_id": ticket.assignee_id}
    ticket.team_id = team_id if team_id is not None else ticket.team_id
    ticket.assignee_id = assignee_id
    ticket.updated_at = now_utc()
    _flush(session, ticket)
    _event(session, ticket, EventKind.ASSIGNED, user=actor, body=reason,
           data={"from": before, "team_id": ticket.team_id, "assignee_id": ticket.assignee_id})
    record(session=session, actor=actor, action="ticket.reassign", entity="ticket", entity_id=ticket.id,
           details={"from": before, "to": {"team_id": ticket.team_id, "assignee_id": ticket.assignee_id}})
    _run_hooks(CHANGE_HOOKS, session, ticket)
    return ticket


def bulk_reassign(*, session: Session, actor: User, ticket_ids: list[int], team_id: int | None = None,
                  assignee_id: int | None = None) -> int:
    """Reassign many tickets at once (closed ones are skipped); returns how many moved."""
    require(actor, Permission.BULK_REASSIGN)
    moved = 0
    for tid in ticket_ids:
        ticket = get_ticket(session=session, ticket_id=tid)
        if ticket.status == TicketStatus.CLOSED:
            continue
        reassign(session=session, actor=actor, ticket_id=tid, version=ticket.version, team_id=team_id,
                 assignee_id=assignee_id, reason="bulk reassignment")
        moved += 1
    return moved


def change_status(*, session: Session, actor: User, ticket_id: int, version: int | None, status: TicketStatus,
                  reason: str | None = None) -> Ticket:
    """Set a ticket's status (solved/closed stamp their times; reopening clears solved)."""
    require(actor, Permission.WORK_TICKETS)
    ticket = _load_for_change(session, ticket_id, version)
    _set_status(session, ticket, TicketStatus(status), user=actor, reason=reason)
    _flush(session, ticket)
    record(session=session, actor=actor, action="ticket.status", entity="ticket", entity_id=ticket.id,
           details={"to": status, "reason": reason})
    return ticket


def change_category(*, session: Session, actor: User, ticket_id: int, version: int | None, category: Category,
                    reason: str) -> Ticket:
    """Correct the category (a labelled example for retraining the categoriser)."""
    require(actor, Permission.WORK_TICKETS)
    if not (reason or "").strip():
        raise TicketError("a reason is required to change the category")
    ticket = _load_for_change(session, ticket_id, version)
    before = ticket.category
    category = Category(category)
    if before == category:
        raise TicketError(f"the category already is {category.value}")
    ticket.category, ticket.category_source, ticket.category_confidence = category, CategorySource.HUMAN, 1.0
    ticket.needs_triage = False
    ticket.updated_at = now_utc()
    _flush(session, ticket)
    _event(session, ticket, EventKind.CATEGORY, user=actor, body=reason,
           data={"from": before, "to": category, "source": "human",
                 "subject": ticket.subject, "description": ticket.description[:4000]})
    record(session=session, actor=actor, action="ticket.category", entity="ticket", entity_id=ticket.id,
           details={"from": before, "to": category, "reason": reason})
    _run_hooks(CHANGE_HOOKS, session, ticket)
    return ticket


def confirm_category(*, session: Session, actor: User, ticket_id: int, version: int | None) -> Ticket:
    """A person agrees with the automatic category: the ticket leaves the needs-triage queue, and the
    confirmation is a labelled example for retraining (the category's source stays model or llm, so the
    categoriser's accuracy counts it as right)."""
    require(actor, Permission.WORK_TICKETS)
    ticket = _load_for_change(session, ticket_id, version)
    if not ticket.needs_triage:
        raise TicketError(f"{ticket.reference} is not waiting for triage")
    ticket.needs_triage = False
    ticket.updated_at = now_utc()
    _flush(session, ticket)
    _event(session, ticket, EventKind.CATEGORY, user=actor, body="category confirmed",
           data={"from": ticket.category, "to": ticket.category, "source": "human", "confirmed": True,
                 "subject": ticket.subject, "description": ticket.description[:4000]})
    record(session=session, actor=actor, action="ticket.category.confirm", entity="ticket", entity_id=ticket.id,
           details={"category": ticket.category, "confidence": ticket.category_confidence})
    _run_hooks(CHANGE_HOOKS, session, ticket)
    return ticket


def change_priority(*, session: Session, actor: User, ticket_id: int, version: int | None, priority: Priority,
                    reason: str) -> Ticket:
    """Change the priority, with a reason."""
    require(actor, Permission.WORK_TICKETS)
    if not (reason or "").strip():
        raise TicketError("a reason is required to change the priority")
    ticket = _load_for_change(session, ticket_id, version)
    before = ticket.priority
    ticket.priority = Priority(priority)
    ticket.updated_at = now_utc()
    _flush(session, ticket)
    _event(session, ticket, EventKind.PRIORITY, user=actor, body=reason, data={"from": before, "to": priority})
    record(session=session, actor=actor, action="ticket.priority", entity="ticket", entity_id=ticket.id,
           details={"from": before, "to": priority, "reason": reason})
    _run_hooks(CHANGE_HOOKS, session, ticket)
    return ticket


def move_requester(*, session: Session, actor: User, ticket_id: int, account_key: str, reason: str) -> int:
    """Move a ticket's requester, and every ticket of theirs, to another account: mail from an unknown
    sender lands in an intake account until a lead says whose customer it is. Returns how many tickets
    moved; each gets an event, and the move an audit row."""
    require(actor, Permission.BULK_REASSIGN)
    if not (reason or "").strip():
        raise TicketError("a reason is required to move a requester to another account")
    ticket = get_ticket(session=session, ticket_id=ticket_id)
    if ticket.requester_id is None:
        raise TicketError(f"{ticket.reference} has no requester to move")
    target = session.scalar(select(Account).where(Account.key == (account_key or "").strip()))
    if target is None:
        raise TicketError(f"no account {account_key!r}")
    contact = session.get(Contact, ticket.requester_id)
    source = session.get(Account, contact.account_id)
    if source.id == target.id:
        raise TicketError(f"{contact.email} already belongs to {target.name}")
    contact.account_id = target.id
    moved = list(session.scalars(select(Ticket).where(Ticket.requester_id == contact.id).with_for_update()))
    for t in moved:
        t.account_id = target.id
        t.updated_at = now_utc()
    session.flush()
    for t in moved:
        _event(session, t, EventKind.ASSIGNED, user=actor, body=reason,
               data={"account": {"from": source.key, "to": target.key}, "contact_id": contact.id})
    record(session=session, actor=actor, action="contact.move", entity="contact", entity_id=contact.id,
           details={"email": contact.email, "from": source.key, "to": target.key, "tickets": [t.id for t in moved],
                    "reason": reason})
    for t in moved:
        _run_hooks(CHANGE_HOOKS, session, t)
    return len(moved)


def add_note(*, session: Session, actor: User, ticket_id: int, body: str) -> TicketEvent:
    """An internal note (never shown to the customer)."""
    require(actor, Permission.WORK_TICKETS)
    body = _body(body)
    ticket = get_ticket(session=session, ticket_id=ticket_id)
    ev = _event(session, ticket, EventKind.INTERNAL_NOTE, user=actor, body=body)
    record(session=session, actor=actor, action="ticket.note", entity="ticket", entity_id=ticket.id)
    return ev


def public_reply(*, session: Session, actor: User, ticket_id: int, body: str,
                 status: TicketStatus | None = None, data: dict | None = None) -> TicketEvent:
    """A public agent reply: mailed to the requester; the first one stops the first-response clock."""
    require(actor, Permission.WORK_TICKETS)
    body = _body(body)
    ticket = get_ticket(session=session, ticket_id=ticket_id, for_update=True)
    _check_open(ticket)
    now = now_utc()
    ev = _event(session, ticket, EventKind.PUBLIC_REPLY, at=now, public=True, user=actor, body=body, data=data or {})
    if ticket.first_response_at is None:
        ticket.first_response_at = now
    new_status = TicketStatus(status) if status else (TicketStatus.OPEN if ticket.status == TicketStatus.NEW else None)
    if new_status and new_status != ticket.status:
        _set_status(session, ticket, new_status, user=actor, mail=False)
    ticket.updated_at = now
    _flush(session, ticket)
    _mail_requester(session, ticket, kind="public_reply",
                    subject=f"[{ticket.reference}] {ticket.subject}",
                    body=f"{actor.name} replied:\n\n{body}\n\nStatus: {ticket.status}\n")
    record(session=session, actor=actor, action="ticket.reply", entity="ticket", entity_id=ticket.id)
    _run_hooks(CHANGE_HOOKS, session, ticket)
    return ev


# ---------------------------------------------------------------- customer actions

def customer_reply(*, session: Session, actor: User, ticket_id: int, body: str) -> TicketEvent:
    """A customer's reply from the portal; a pending or solved ticket goes back to open."""
    ticket = ticket_for_customer(session=session, actor=actor, ticket_id=ticket_id)
    body = _body(body)
    _check_open(ticket)
    contact = session.get(Contact, actor.contact_id)
    ev = append_customer_reply(session=session, ticket=ticket, contact=contact, body=body)
    record(session=session, actor=actor, action="ticket.customer_reply", entity="ticket", entity_id=ticket.id)
    return ev


def append_customer_reply(*, session: Session, ticket: Ticket, contact: Contact | None, body: str,
                          data: dict | None = None) -> TicketEvent:
    """Add a customer reply from any channel (portal, mail) and reopen a pending or solved ticket."""
    ev = _event(session, ticket, EventKind.CUSTOMER_REPLY, public=True, contact=contact, body=body, data=data or {})
    if ticket.status in (TicketStatus.PENDING, TicketStatus.SOLVED):
        _set_status(session, ticket, TicketStatus.OPEN, contact=contact, mail=False)
    ticket.updated_at = now_utc()
    _flush(session, ticket)
    _run_hooks(CHANGE_HOOKS, session, ticket)
    return ev


def apply_external_change(*, session: Session, ticket: Ticket, source: str, status: TicketStatus | None = None,
                          assignee_id: int | None = None, kind: EventKind | None = None, body: str | None = None,
                          public: bool = False, data: dict | None = None, at: datetime | None = None) -> TicketEvent | None:
    """Apply what changed in a connected helpdesk (status, assignee, an agent comment or note); no customer mail."""
    ev = None
    if status is not None and TicketStatus(status) != ticket.status and ticket.status != TicketStatus.CLOSED:
        _set_status(session, ticket, TicketStatus(status), reason=f"changed in {source}", mail=False)
    if assignee_id is not None and assignee_id != ticket.assignee_id:
        before = {"team_id": ticket.team_id, "assignee_id": ticket.assignee_id}
        ticket.assignee_id = assignee_id
        _event(session, ticket, EventKind.ASSIGNED, data={"from": before, "assignee_id": assignee_id, "source": source})
    if kind is not None:
        ev = _event(session, ticket, kind, at=at, public=public, body=body, data={"source": source, **(data or {})})
        if kind == EventKind.PUBLIC_REPLY and ticket.first_response_at is None:
            ticket.first_response_at = ev.at
    ticket.updated_at = now_utc()
    _flush(session, ticket)
    _run_hooks(CHANGE_HOOKS, session, ticket)
    return ev


def customer_close(*, session: Session, actor: User, ticket_id: int) -> Ticket:
    """The requester marks their ticket solved from the portal."""
    ticket = ticket_for_customer(session=session, actor=actor, ticket_id=ticket_id)
    _check_open(ticket)
    if ticket.status == TicketStatus.SOLVED:
        raise TicketError(f"{ticket.reference} is already solved")
    contact = session.get(Contact, actor.contact_id)
    _set_status(session, ticket, TicketStatus.SOLVED, contact=contact, reason="closed by the requester")
    _flush(session, ticket)
    record(session=session, actor=actor, action="ticket.customer_close", entity="ticket", entity_id=ticket.id)
    return ticket


# ---------------------------------------------------------------- internals

def _body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise IntakeError({"body": "The message is empty"})
    if len(body) > 20_000:
        raise IntakeError({"body": "The message is too long (at most 20000 characters)"})
    return body


def _check_open(ticket: Ticket) -> None:
    if ticket.status == TicketStatus.CLOSED:
        raise TicketError(f"{ticket.reference} is closed; open a new ticket instead")


def _set_status(session: Session, ticket: Ticket, status: TicketStatus, *, user: User | None = None,
                contact: Contact | None = None, reason: str | None = None, mail: bool = True) -> None:
    before = TicketStatus(ticket.status)
    if before == status:
        raise TicketError(f"{ticket.reference} already is {status.value}")
    if before == TicketStatus.CLOSED:
        raise TicketError(f"{ticket.reference} is closed and cannot change")
    now = now_utc()
    ticket.status = status
    ticket.updated_at = now
    if status == TicketStatus.SOLVED:
        ticket.solved_at = now
    elif status == TicketStatus.CLOSED:
        ticket.closed_at = now
        ticket.solved_at = ticket.solved_at or now
    elif before == TicketStatus.SOLVED:
        ticket.solved_at = None  # reopened
    _event(session, ticket, EventKind.STATUS, at=now, public=True, user=user, contact=contact, body=reason,
           data={"from": before, "to": status})
    if mail:
        _mail_requester(session, ticket, kind="status_change", subject=f"[{ticket.reference}] Status: {status.value}",
                        body=f"Your request {ticket.reference} ({ticket.subject}) is now {status.value.replace('_', ' ')}.\n")
    if status == TicketStatus.SOLVED:
        session.flush()
        _run_hooks(SOLVED_HOOKS, session, ticket)
    _run_hooks(CHANGE_HOOKS, session, ticket)


def _event(session: Session, ticket: Ticket, kind: EventKind, *, at: datetime | None = None, public: bool = False,
           user: User | None = None, contact: Contact | None = None, body: str | None = None,
           data: dict | None = None) -> TicketEvent:
    from core.audit.service import _jsonable

    ev = TicketEvent(ticket_id=ticket.id, at=at or now_utc(), kind=kind, public=public,
                     actor_user_id=user.id if user else None, actor_contact_id=contact.id if contact else None,
                     body=body, data=_jsonable(data or {}))
    session.add(ev)
    session.flush()
    return ev


def _mail_requester(session: Session, ticket: Ticket, *, kind: str, subject: str, body: str) -> None:
    """Queue mail to the requester. An import itself sends nothing (create_ticket), but a reply or status
    change made here later on an imported ticket is news to the customer like any other."""
    if ticket.requester_id is None:
        return
    contact = session.get(Contact, ticket.requester_id)
    queue_mail(session=session, to=contact.email, kind=kind, ticket_id=ticket.id, subject=subject, body=body)


def _run_hooks(hooks: list[str], session: Session, ticket: Ticket) -> None:
    for spec in hooks:
        module, func = spec.split(":")
        try:
            fn = getattr(importlib.import_module(module), func)
        except (ImportError, AttributeError):
            continue  # that domain is not installed
        fn(session=session, ticket=ticket)


__all__ = [
    "IntakeError", "PermissionDenied", "StaleTicket", "TicketError", "TicketNotFound", "add_note",
    "append_customer_reply", "apply_external_change", "bulk_reassign", "change_category", "change_priority",
    "change_status",
    "create_ticket", "customer_close", "customer_reply", "customer_tickets", "get_ticket", "public_reply",
    "move_requester", "reassign", "ticket_for_customer", "timeline",
]
