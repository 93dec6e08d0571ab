"""The ticket vocabulary shared across modules."""

from __future__ import annotations

from enum import StrEnum


class TicketStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    SOLVED = "solved"
    CLOSED = "closed"


OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.ON_HOLD)

# How the portal names a status to the customer (staff pages show the codes they filter by).
CUSTOMER_STATUS_LABELS = {
    TicketStatus.NEW: "Received", TicketStatus.OPEN: "In progress", TicketStatus.PENDING: "Waiting for your reply",
    TicketStatus.ON_HOLD: "On hold", TicketStatus.SOLVED: "Solved", TicketStatus.CLOSED: "Closed",
}


class Priority(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


PRIORITY_WEIGHT = {Priority.HIGH: 3, Priority.MEDIUM: 2, Priority.LOW: 1}


class Category(StrEnum):
    BUG = "bug"
    QUESTION = "question"
    FEATURE = "feature"
    PERFORMANCE = "performance"
    BILLING = "billing"


class CategorySource(StrEnum):
    MODEL = "model"
    LLM = "llm"
    HUMAN = "human"
    IMPORT = "import"


class Channel(StrEnum):
    PORTAL = "portal"
    STAFF = "staff"
    IMPORT = "import"
    EMAIL = "email"


class EventKind(StrEnum):
    CREATED = "created"
    STATUS = "status"
    ASSIGNED = "assigned"
    CATEGORY = "category"
    PRIORITY = "priority"
    PUBLIC_REPLY = "public_reply"
    INTERNAL_NOTE = "internal_note"
    CUSTOMER_REPLY = "customer_reply"
    SLA_BREACH = "sla_breach"
