"""Feedback items, NPS survey offers, CSAT requests, roadmap items and links, detractor follow-ups, subscription events."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, Numeric, String, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, utcnow_column


class FeedbackKind(StrEnum):
    RATING = "rating"   # the portal's 1-5 stars
    NPS = "nps"         # 0-10 "how likely are you to recommend us"
    CSAT = "csat"       # 1-5 satisfaction with one solved ticket


SCORE_RANGE = {FeedbackKind.RATING: (1, 5), FeedbackKind.NPS: (0, 10), FeedbackKind.CSAT: (1, 5)}


class FeedbackSource(StrEnum):
    PORTAL = "portal"
    IMPORT = "import"
    DEMO = "demo"


class RoadmapStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    SHIPPED = "shipped"


class FollowUpStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class SubscriptionEventType(StrEnum):
    STARTED = "started"
    UPGRADED = "upgraded"
    DOWNGRADED = "downgraded"
    CANCELLED = "cancelled"
    REACTIVATED = "reactivated"


class FeedbackItem(Base):
    __tablename__ = "feedback_items"
    __table_args__ = (
        CheckConstraint("kind IN ('rating','nps','csat')", name="kind"),
        CheckConstraint("(kind = 'nps' AND score BETWEEN 0 AND 10) OR (kind IN ('rating','csat') AND score BETWEEN 1 AND 5)",
                        name="score_range"),
        CheckConstraint("kind <> 'csat' OR ticket_id IS NOT NULL", name="csat_ticket"),
        CheckConstraint("char_length(comment) <= 5000", name="comment_length"),
        Index("ix_feedback_items_kind_created", "kind", "created_at"),
        Index("ix_feedback_items_account_created", "account_id", "created_at"),
        Index("ix_feedback_items_created_at", "created_at"),
        # One CSAT per ticket, enforced by the database too.
        Index("uq_feedback_items_csat_ticket", "ticket_id", unique=True, postgresql_where=text("kind = 'csat'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    page: Mapped[str | None] = mapped_column(String(2000))
    language: Mapped[str | None] = mapped_column(String(5))
    source: Mapped[str] = mapped_column(String(10), default=FeedbackSource.PORTAL, server_default="portal")
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = utcnow_column()
    updated_at: Mapped[datetime] = utcnow_column()


class NpsSurveyOffer(Base):
    """One NPS survey shown to a contact; a contact is offered at most one per 90 days."""

    __tablename__ = "nps_survey_offers"
    __table_args__ = (Index("ix_nps_survey_offers_contact_offered", "contact_id", "offered_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    offered_at: Mapped[datetime] = utcnow_column()
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dismissed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    feedback_item_id: Mapped[int | None] = mapped_column(ForeignKey("feedback_items.id", ondelete="SET NULL"))


class CsatRequest(Base):
    """The CSAT request made when a ticket is solved: a mail (in the outbox) and a portal prompt."""

    __tablename__ = "csat_requests"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    requested_at: Mapped[datetime] = utcnow_column()
    mail_id: Mapped[int | None] = mapped_column(BigInteger)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RoadmapItem(Base):
    __tablename__ = "roadmap_items"
    __table_args__ = (
        CheckConstraint("status IN ('planned','in_progress','shipped')", name="status"),
        CheckConstraint("(status = 'shipped') = (shipped_at IS NOT NULL)", name="shipped_at"),
        CheckConstraint("char_length(title) BETWEEN 1 AND 200", name="title_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[str] = mapped_column(String(20), default=RoadmapStatus.PLANNED, server_default="planned")
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = utcnow_column()
    updated_at: Mapped[datetime] = utcnow_column()


class RoadmapLink(Base):
    """A feedback item or a ticket linked to a roadmap item (exactly one of the two)."""

    __tablename__ = "roadmap_links"
    __table_args__ = (
        CheckConstraint("(feedback_item_id IS NULL) <> (ticket_id IS NULL)", name="one_target"),
        UniqueConstraint("roadmap_item_id", "feedback_item_id", name="uq_roadmap_links_item_feedback"),
        UniqueConstraint("roadmap_item_id", "ticket_id", name="uq_roadmap_links_item_ticket"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    roadmap_item_id: Mapped[int] = mapped_column(ForeignKey("roadmap_items.id", ondelete="CASCADE"), index=True)
    feedback_item_id: Mapped[int | None] = mapped_column(ForeignKey("feedback_items.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    linked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    linked_at: Mapped[datetime] = utcnow_column()


class DetractorFollowUp(Base):
    __tablename__ = "detractor_followups"
    __table_args__ = (
        CheckConstraint("status IN ('open','done')", name="status"),
        CheckConstraint("(status = 'done') = (done_at IS NOT NULL)", name="done_at"),
        Index("ix_detractor_followups_status_opened", "status", "opened_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    feedback_item_id: Mapped[int] = mapped_column(ForeignKey("feedback_items.id", ondelete="CASCADE"), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(10), default=FollowUpStatus.OPEN, server_default="open")
    opened_at: Mapped[datetime] = utcnow_column()
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")


class SubscriptionEvent(Base):
    """A change to an account's subscription; `mrr` is the MRR in effect after it (the MRR lost for `cancelled`)."""

    __tablename__ = "subscription_events"
    __table_args__ = (
        CheckConstraint("type IN ('started','upgraded','downgraded','cancelled','reactivated')", name="type"),
        CheckConstraint("mrr >= 0", name="mrr"),
        UniqueConstraint("account_id", "type", "at", name="uq_subscription_events_account_type_at"),
        Index("ix_subscription_events_account_at", "account_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    mrr: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=0, server_default="0")
    created_at: Mapped[datetime] = utcnow_column()
