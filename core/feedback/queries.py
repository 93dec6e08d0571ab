"""Read queries for the product manager's page: the feedback explorer, roadmap, follow-ups and filter choices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

EXPLORER_LIMIT = 1000


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def explore(*, session: Session, start: datetime, end: datetime, kinds: list[str] | None = None,
            plans: list[str] | None = None, account_ids: list[int] | None = None, score_min: int = 0,
            score_max: int = 10, search: str = "", only_with_comment: bool = False, only_unlinked: bool = False,
            ids: list[int] | None = None, limit: int = EXPLORER_LIMIT) -> list[dict]:
    """Feedback items of the period matching the filters, newest first, with their account, plan and roadmap links."""
    where = ["f.created_at >= :start", "f.created_at < :end", "f.score BETWEEN :smin AND :smax"]
    params: dict = {"start": start, "end": end, "smin": score_min, "smax": score_max, "limit": limit}
    if kinds:
        where.append("f.kind = ANY(:kinds)")
        params["kinds"] = list(kinds)
    if plans:
        where.append("a.plan = ANY(:plans)")
        params["plans"] = list(plans)
    if account_ids:
        where.append("f.account_id = ANY(:accounts)")
        params["accounts"] = [int(a) for a in account_ids]
    if ids:
        where.append("f.id = ANY(:ids)")
        params["ids"] = [int(i) for i in ids]
    if search and search.strip():
        where.append("(f.comment ILIKE :q OR f.page ILIKE :q OR a.name ILIKE :q OR c.email ILIKE :q)")
        params["q"] = _like(search.strip())
    if only_with_comment:
        where.append("char_length(btrim(f.comment)) > 0")
    if only_unlinked:
        where.append("NOT EXISTS (SELECT 1 FROM roadmap_links l WHERE l.feedback_item_id = f.id)")
    sql = f"""
        SELECT f.id, f.created_at, f.kind, f.score, f.comment, f.page, f.source, a.id AS account_id,
               a.name AS account, a.plan, c.email AS contact, f.ticket_id,
               (SELECT string_agg(r.title, '; ' ORDER BY r.title) FROM roadmap_links l
                  JOIN roadmap_items r ON r.id = l.roadmap_item_id WHERE l.feedback_item_id = f.id) AS roadmap
          FROM feedback_items f
          JOIN accounts a ON a.id = f.account_id
          LEFT JOIN contacts c ON c.id = f.contact_id
         WHERE {' AND '.join(where)}
         ORDER BY f.created_at DESC, f.id DESC
         LIMIT :limit"""
    return [dict(r._mapping) for r in session.execute(text(sql), params)]


def roadmap(*, session: Session) -> list[dict]:
    """Every roadmap item with its linked feedback items and tickets counted."""
    sql = """
        SELECT r.id, r.title, r.status, r.shipped_at, r.description, r.created_at,
               count(l.feedback_item_id) AS feedback_items, count(l.ticket_id) AS tickets
          FROM roadmap_items r LEFT JOIN roadmap_links l ON l.roadmap_item_id = r.id
         GROUP BY r.id
         ORDER BY CASE r.status WHEN 'in_progress' THEN 0 WHEN 'planned' THEN 1 ELSE 2 END,
                  r.shipped_at DESC NULLS FIRST, r.title"""
    return [dict(r._mapping) for r in session.execute(text(sql))]


def roadmap_links(*, session: Session, roadmap_item_id: int, limit: int = 500) -> list[dict]:
    """The newest `limit` feedback items and tickets linked to one roadmap item, each row carrying the total."""
    sql = """
        SELECT l.id AS link_id, l.linked_at, f.id AS feedback_item_id, f.kind, f.score, f.comment,
               t.id AS ticket_id, t.subject AS ticket_subject, t.category AS ticket_category,
               (SELECT count(*) FROM roadmap_links c WHERE c.roadmap_item_id = :rid) AS total_links
          FROM (SELECT * FROM roadmap_links WHERE roadmap_item_id = :rid ORDER BY linked_at DESC LIMIT :limit) l
          LEFT JOIN feedback_items f ON f.id = l.feedback_item_id
          LEFT JOIN tickets t ON t.id = l.ticket_id
         ORDER BY l.linked_at DESC"""
    return [dict(r._mapping) for r in session.execute(text(sql), {"rid": roadmap_item_id, "limit": limit})]


def ticket_roadmap(*, session: Session, ticket_id: int) -> list[dict]:
    """The roadmap items one ticket is linked to."""
    sql = """SELECT r.id, r.title, r.status, r.shipped_at, l.id AS link_id
               FROM roadmap_links l JOIN roadmap_items r ON r.id = l.roadmap_item_id
              WHERE l.ticket_id = :tid ORDER BY r.title"""
    return [dict(r._mapping) for r in session.execute(text(sql), {"tid": ticket_id})]


def feature_tickets(*, session: Session, limit: int = 300) -> list[dict]:
    """Recent feature-request tickets, for linking to roadmap items."""
    sql = """SELECT t.id, t.subject, t.status, t.created_at, a.name AS account
               FROM tickets t JOIN accounts a ON a.id = t.account_id
              WHERE t.category = 'feature' ORDER BY t.created_at DESC LIMIT :limit"""
    return [dict(r._mapping) for r in session.execute(text(sql), {"limit": limit})]


def followups(*, session: Session, status: str | None = None, owner_user_id: int | None = None,
              limit: int = 500) -> list[dict]:
    """Detractor follow-ups (open first), with the account, owner, score, comment and hours taken."""
    sql = """
        SELECT d.id, d.status, d.opened_at, d.done_at, a.name AS account, a.plan, a.mrr, u.name AS owner,
               d.owner_user_id, f.score, f.comment, d.note,
               round((extract(epoch FROM coalesce(d.done_at, now()) - d.opened_at) / 3600.0)::numeric, 1) AS hours
          FROM detractor_followups d
          JOIN accounts a ON a.id = d.account_id
          JOIN feedback_items f ON f.id = d.feedback_item_id
          LEFT JOIN users u ON u.id = d.owner_user_id
         WHERE (CAST(:status AS text) IS NULL OR d.status = :status)
           AND (CAST(:owner AS integer) IS NULL OR d.owner_user_id = :owner)
         ORDER BY (d.status = 'open') DESC, d.opened_at DESC LIMIT :limit"""
    rows = session.execute(text(sql), {"status": status, "owner": owner_user_id, "limit": limit})
    return [dict(r._mapping) for r in rows]


def accounts(*, session: Session) -> list[dict]:
    """Accounts (id, name, plan) for the explorer's filter."""
    return [dict(r._mapping) for r in session.execute(text("SELECT id, name, plan FROM accounts ORDER BY name"))]
