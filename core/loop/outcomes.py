"""What happened to a ticket, as its customer sees it: the articles it was answered with, roadmap plans, the fix release."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.feedback.models import RoadmapItem, RoadmapLink
from core.loop.models import TicketFix
from core.releases.models import Deployment
from core.tickets.enums import EventKind
from core.tickets.models import TicketEvent


def ticket_outcomes(*, session: Session, ticket_id: int) -> dict:
    """{"articles": [...], "roadmap": [...], "fixes": [...]} for one ticket (public facts only)."""
    articles, seen = [], set()
    for at, data in session.execute(
            select(TicketEvent.at, TicketEvent.data).where(TicketEvent.ticket_id == ticket_id,
                                                           TicketEvent.kind == EventKind.PUBLIC_REPLY,
                                                           TicketEvent.public.is_(True),
                                                           TicketEvent.data.has_key("doc_links"))
            .order_by(TicketEvent.at)):
        for link in (data or {}).get("doc_links") or []:
            if link.get("url") not in seen:
                seen.add(link.get("url"))
                articles.append({"at": at, "title": link.get("title", ""), "url": link.get("url", "")})
    roadmap = [dict(r._mapping) for r in session.execute(
        select(RoadmapItem.title, RoadmapItem.status, RoadmapItem.shipped_at)
        .join(RoadmapLink, RoadmapLink.roadmap_item_id == RoadmapItem.id)
        .where(RoadmapLink.ticket_id == ticket_id).order_by(RoadmapItem.id))]
    fixes = [dict(r._mapping) for r in session.execute(
        select(Deployment.version, TicketFix.deployed_at)
        .join(Deployment, Deployment.id == TicketFix.deployment_id)
        .where(TicketFix.ticket_id == ticket_id).order_by(TicketFix.deployed_at))]
    return {"articles": articles, "roadmap": roadmap, "fixes": list({f["version"]: f for f in fixes}.values())}
