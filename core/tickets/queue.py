"""The queue: server-side filtering, text search, sorting and pagination over tickets."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import and_, func, literal_column, or_, select
from sqlalchemy.orm import Session

from core.accounts.models import Account
from core.auth.models import Team, User
from core.tickets.enums import OPEN_STATUSES, Priority
from core.tickets.models import Ticket

COUNT_CAP = 10_000  # beyond this the queue says "10,000+" instead of scanning everything
SORTS = {
    "priority": (
        func.array_position(literal_column("ARRAY['high','medium','low']::varchar[]"), Ticket.priority),
        Ticket.created_at.asc(),
    ),
    "newest": (Ticket.created_at.desc(), Ticket.id.desc()),
    "oldest": (Ticket.created_at.asc(), Ticket.id.asc()),
    "recently updated": (Ticket.updated_at.desc(), Ticket.id.desc()),
}
SEARCH_VECTOR = func.to_tsvector(literal_column("'simple'::regconfig"),
                                 func.coalesce(Ticket.subject, "") + " " + func.coalesce(Ticket.description, ""))
UNASSIGNED = -1


@dataclass
class QueueFilter:
    statuses: list[str] = field(default_factory=lambda: [s.value for s in OPEN_STATUSES])
    priorities: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    team_ids: list[int] = field(default_factory=list)
    assignee_id: int | None = None          # UNASSIGNED for "nobody"
    needs_triage: bool | None = None
    sla_states: list[str] = field(default_factory=list)
    text: str = ""
    account_id: int | None = None


@dataclass
class QueuePage:
    rows: list[dict]
    total: int
    total_capped: bool
    page: int
    page_size: int


def _where(f: QueueFilter):
    conds = []
    if f.statuses:
        conds.append(Ticket.status.in_(f.statuses))
    if f.priorities:
        conds.append(Ticket.priority.in_(f.priorities))
    if f.categories:
        conds.append(Ticket.category.in_(f.categories))
    if f.team_ids:
        conds.append(Ticket.team_id.in_(f.team_ids))
    if f.assignee_id == UNASSIGNED:
        conds.append(Ticket.assignee_id.is_(None))
    elif f.assignee_id is not None:
        conds.append(Ticket.assignee_id == f.assignee_id)
    if f.needs_triage is not None:
        conds.append(Ticket.needs_triage.is_(f.needs_triage))
    if f.account_id is not None:
        conds.append(Ticket.account_id == f.account_id)
    text = (f.text or "").strip()
    if text:
        m = re.fullmatch(r"(?i)(?:ac-)?(\d{1,12})", text)
        ts = SEARCH_VECTOR.op("@@")(func.websearch_to_tsquery(literal_column("'simple'::regconfig"), text))
        conds.append(or_(Ticket.id == int(m.group(1)), ts) if m else ts)
    if f.sla_states:
        sla = _sla_condition(f.sla_states)
        if sla is not None:
            conds.append(sla)
    return and_(*conds) if conds else None


def _sla_condition(states: list[str]):
    try:
        from core.sla.service import sla_state_condition
    except ImportError:
        return None
    return sla_state_condition(states)


def search(*, session: Session, filters: QueueFilter, sort: str = "priority", page: int = 1,
           page_size: int = 50) -> QueuePage:
    """One page of the queue with the total (capped) for the filters."""
    page = max(1, page)
    page_size = min(max(1, page_size), 200)
    where = _where(filters)
    assignee = User.__table__.alias("assignee")
    q = (select(Ticket.id, Ticket.subject, Ticket.status, Ticket.priority, Ticket.category,
                Ticket.category_confidence, Ticket.category_source, Ticket.needs_triage, Ticket.created_at,
                Ticket.updated_at, Ticket.first_response_at, Ticket.version, Ticket.team_id, Ticket.assignee_id,
                Team.name.label("team"), assignee.c.name.label("assignee"), Account.name.label("account"),
                Account.plan.label("plan"))
         .join(Account, Account.id == Ticket.account_id)
         .outerjoin(Team, Team.id == Ticket.team_id)
         .outerjoin(assignee, assignee.c.id == Ticket.assignee_id))
    if where is not None:
        q = q.where(where)
    q = q.order_by(*SORTS.get(sort, SORTS["priority"])).limit(page_size).offset((page - 1) * page_size)
    rows = [dict(r._mapping) for r in session.execute(q)]
    inner = select(Ticket.id)
    if where is not None:
        inner = inner.where(where)
    total = session.scalar(select(func.count()).select_from(inner.limit(COUNT_CAP + 1).subquery()))
    return QueuePage(rows=rows, total=min(total, COUNT_CAP), total_capped=total > COUNT_CAP, page=page,
                     page_size=page_size)


def categoriser_accuracy(*, session: Session, days: int = 90) -> dict:
    """How often the categoriser's label survived human review: 1 - corrected / categorised."""
    from sqlalchemy import text

    row = session.execute(text("""
        SELECT count(*) FILTER (WHERE t.category_source IN ('model','llm','human')) AS categorised,
               count(*) FILTER (WHERE t.category_source = 'human') AS corrected
        FROM tickets t WHERE t.created_at >= now() - make_interval(days => :days)
    """), {"days": days}).one()
    categorised, corrected = row.categorised or 0, row.corrected or 0
    return {"categorised": categorised, "corrected": corrected,
            "accuracy": None if categorised == 0 else 1 - corrected / categorised}


def workload(*, session: Session) -> list[dict]:
    """Open tickets per agent, weighted by priority, for the lead's balance view."""
    from sqlalchemy import text

    return [dict(r._mapping) for r in session.execute(text("""
        SELECT u.id, u.name, tm.name AS team, u.away, u.capacity, count(t.id) AS open_tickets,
               coalesce(sum(CASE t.priority WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END), 0) AS load
        FROM users u LEFT JOIN teams tm ON tm.id = u.team_id
        LEFT JOIN tickets t ON t.assignee_id = u.id AND t.status IN ('new','open','pending','on_hold')
        WHERE u.active AND u.role IN ('agent','support_lead')
        GROUP BY u.id, u.name, tm.name, u.away, u.capacity ORDER BY tm.name, u.name
    """))]


_ = Priority  # re-exported vocabulary for callers building filters
