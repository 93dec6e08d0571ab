"""Reading the files that came with a ticket (mail attachments): what there is, and the bytes on demand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.roles import Permission, Role, require
from core.channels.models import TicketAttachment
from core.tickets.models import TicketEvent


@dataclass(frozen=True)
class Attachment:
    """One file of a ticket; `load` fetches its bytes (None when it was refused: `note` says why)."""

    id: int
    filename: str
    content_type: str
    size: int
    created_at: datetime
    note: str | None
    load: Callable[[], bytes] | None

    @property
    def stored(self) -> bool:
        return self.load is not None


def attachments_for_ticket(*, session: Session, actor, ticket_id: int) -> list[Attachment]:
    """The ticket's files, oldest first, for whoever may view the ticket: staff with the queue, or a customer for
    their own account's ticket (only files of public events). TicketNotFound / PermissionDenied otherwise."""
    from core.tickets.service import get_ticket, ticket_for_customer

    if getattr(actor, "role", None) == Role.CUSTOMER:
        ticket = ticket_for_customer(session=session, actor=actor, ticket_id=ticket_id)
    else:
        require(actor, Permission.VIEW_QUEUE)
        ticket = get_ticket(session=session, ticket_id=ticket_id)
    q = (select(TicketAttachment.id, TicketAttachment.filename, TicketAttachment.content_type, TicketAttachment.size,
                TicketAttachment.created_at, TicketAttachment.note, TicketAttachment.stored)
         .where(TicketAttachment.ticket_id == ticket.id).order_by(TicketAttachment.id))
    if getattr(actor, "role", None) == Role.CUSTOMER:
        public = select(TicketEvent.id).where(TicketEvent.ticket_id == ticket.id, TicketEvent.public.is_(True))
        q = q.where(TicketAttachment.event_id.in_(public))
    return [Attachment(id=r.id, filename=r.filename, content_type=r.content_type, size=r.size,
                       created_at=r.created_at, note=r.note, load=_loader(r.id) if r.stored else None)
            for r in session.execute(q)]


def _loader(attachment_id: int) -> Callable[[], bytes]:
    """Bytes are read only when asked for (in their own short transaction), not with the list."""

    def load() -> bytes:
        from core.db import session_scope

        with session_scope() as s:
            return s.scalar(select(TicketAttachment.data).where(TicketAttachment.id == attachment_id)) or b""

    return load


__all__ = ["Attachment", "attachments_for_ticket"]
