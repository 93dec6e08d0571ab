"""Roadmap notices: requesters of linked feature tickets and authors of linked feedback hear when an item moves."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.accounts.models import Contact
from core.feedback.models import FeedbackItem, RoadmapItem, RoadmapLink
from core.loop.models import RoadmapChange, RoadmapNotice
from core.mail.service import queue_mail
from core.tickets.models import Ticket

MESSAGES = {
    ("en", RoadmapChange.IN_PROGRESS): ("We started working on: {title}",
                                        "Hello {name},\n\nYou asked us for this, so we wanted you to know: we have started "
                                        "working on \"{title}\".\nWe will write again when it ships.\n"),
    ("en", RoadmapChange.SHIPPED): ("It shipped: {title}",
                                    "Hello {name},\n\nGood news: \"{title}\", which you asked for, has shipped and is "
                                    "available now.\nThank you for telling us what you need.\n"),
    ("es", RoadmapChange.IN_PROGRESS): ("Hemos empezado a trabajar en: {title}",
                                        "Hola {name}:\n\nNos lo pediste, así que queríamos contártelo: hemos empezado a "
                                        "trabajar en \"{title}\".\nTe escribiremos de nuevo cuando esté disponible.\n"),
    ("es", RoadmapChange.SHIPPED): ("Ya está disponible: {title}",
                                    "Hola {name}:\n\nBuenas noticias: \"{title}\", que nos pediste, ya está disponible.\n"
                                    "Gracias por contarnos lo que necesitas.\n"),
}


def _message(language: str, change: RoadmapChange, *, title: str, name: str) -> tuple[str, str]:
    subject, body = MESSAGES.get((language, change)) or MESSAGES[("en", change)]
    # Our own templates; the user-given title and name are substituted as plain values, never as templates.
    return (subject.replace("{title}", title),
            body.replace("{name}", "\x00").replace("{title}", title).replace("\x00", name))


def people_for_item(*, session: Session, roadmap_item_id: int) -> list[dict]:
    """Everyone linked to a roadmap item (one row per person): requesters of linked tickets, authors of linked feedback."""
    links = session.execute(
        select(RoadmapLink.id, Ticket.requester_id, RoadmapLink.ticket_id, FeedbackItem.contact_id,
               RoadmapLink.feedback_item_id)
        .outerjoin(Ticket, Ticket.id == RoadmapLink.ticket_id)
        .outerjoin(FeedbackItem, FeedbackItem.id == RoadmapLink.feedback_item_id)
        .where(RoadmapLink.roadmap_item_id == roadmap_item_id).order_by(RoadmapLink.id))
    seen: dict[int, dict] = {}
    for r in links:
        contact_id = r.requester_id if r.ticket_id is not None else r.contact_id
        if contact_id is not None:
            seen.setdefault(contact_id, {"contact_id": contact_id, "ticket_id": r.ticket_id,
                                         "feedback_item_id": r.feedback_item_id})
    return list(seen.values())


def notify(*, session: Session, roadmap_item_id: int, change: RoadmapChange) -> int:
    """Tell each linked person (mail and a portal note) that the item moved; someone told already is skipped."""
    item = session.get(RoadmapItem, roadmap_item_id)
    if item is None:
        return 0
    change = RoadmapChange(change)
    told = 0
    for person in people_for_item(session=session, roadmap_item_id=roadmap_item_id):
        contact = session.get(Contact, person["contact_id"])
        subject, body = _message(contact.language or "en", change, title=item.title, name=contact.name)
        # The unique (item, person, change) row is the guard: a second move or a second link inserts nothing.
        notice_id = session.scalar(
            insert(RoadmapNotice).values(roadmap_item_id=item.id, contact_id=contact.id, change=change.value,
                                         ticket_id=person["ticket_id"], feedback_item_id=person["feedback_item_id"],
                                         message=body)
            .on_conflict_do_nothing(constraint="uq_roadmap_notices_item_contact_change")
            .returning(RoadmapNotice.id))
        if notice_id is None:
            continue
        mail = queue_mail(session=session, to=contact.email, subject=subject, body=body,
                          kind=f"roadmap_{change.value}", ticket_id=person["ticket_id"])
        session.execute(RoadmapNotice.__table__.update().where(RoadmapNotice.id == notice_id).values(mail_id=mail.id))
        told += 1
    session.flush()
    return told


def on_roadmap_status(*, session: Session, item: RoadmapItem, before: str | None, actor=None) -> int:
    """Hook for core.feedback.service.ROADMAP_HOOKS: notify on a move to in progress or shipped."""
    if item.status == before or item.status not in [c.value for c in RoadmapChange]:
        return 0
    return notify(session=session, roadmap_item_id=item.id, change=RoadmapChange(item.status))


def told_for_item(*, session: Session, roadmap_item_id: int) -> list[dict]:
    """Who was told about an item, and when (for the roadmap item's view)."""
    rows = session.execute(
        select(RoadmapNotice.change, RoadmapNotice.at, Contact.name, Contact.email, RoadmapNotice.ticket_id,
               RoadmapNotice.feedback_item_id, RoadmapNotice.mail_id)
        .join(Contact, Contact.id == RoadmapNotice.contact_id)
        .where(RoadmapNotice.roadmap_item_id == roadmap_item_id).order_by(RoadmapNotice.at, RoadmapNotice.id))
    return [dict(r._mapping) for r in rows]


def notes_for_contact(*, session: Session, contact_id: int, limit: int = 20) -> list[dict]:
    """The portal notes for one customer: roadmap items they asked for that moved, newest first."""
    rows = session.execute(
        select(RoadmapNotice.at, RoadmapNotice.change, RoadmapItem.title, RoadmapNotice.message,
               RoadmapNotice.ticket_id)
        .join(RoadmapItem, RoadmapItem.id == RoadmapNotice.roadmap_item_id)
        .where(RoadmapNotice.contact_id == contact_id).order_by(RoadmapNotice.at.desc(), RoadmapNotice.id.desc()).limit(limit))
    return [dict(r._mapping) for r in rows]
