"""Cached loaders and shared pieces for the ticket pages (queue, new ticket, portal)."""

from __future__ import annotations

from dataclasses import asdict

import streamlit as st
from sqlalchemy import select

from core.db import session_scope
from core.ui.widgets import md_escape


@st.cache_data(ttl=15, show_spinner=False)
def queue_page(filters: dict, sort: str, page: int, page_size: int) -> dict:
    from core.tickets.queue import QueueFilter, search

    with session_scope() as s:
        result = search(session=s, filters=QueueFilter(**filters), sort=sort, page=page, page_size=page_size)
    return asdict(result)


@st.cache_data(ttl=60, show_spinner=False)
def teams() -> list[dict]:
    from core.auth.models import Team

    with session_scope() as s:
        return [{"id": t.id, "key": t.key, "name": t.name} for t in s.scalars(select(Team).order_by(Team.name))]


@st.cache_data(ttl=60, show_spinner=False)
def agents() -> list[dict]:
    from core.auth.models import User

    with session_scope() as s:
        rows = s.scalars(select(User).where(User.active.is_(True), User.role.in_(["agent", "support_lead"]))
                         .order_by(User.name))
        return [{"id": u.id, "name": u.name, "team_id": u.team_id, "away": u.away} for u in rows]


@st.cache_data(ttl=60, show_spinner=False)
def accounts() -> list[dict]:
    from core.accounts.models import Account

    with session_scope() as s:
        return [{"key": a.key, "name": a.name, "plan": a.plan}  # columns, not entities: thousands of accounts
                for a in s.execute(select(Account.key, Account.name, Account.plan)
                                   .where(Account.status == "active").order_by(Account.name))]


@st.cache_data(ttl=60, show_spinner=False)
def find_accounts(text: str = "", limit: int = 50) -> list[dict]:
    """Active accounts whose name or key contains text (all words), by name; at most limit. A picker that
    lists thousands of accounts is slow to draw and to use; staff type a few letters of the company."""
    from sqlalchemy import and_, or_

    from core.accounts.models import Account

    q = select(Account.key, Account.name, Account.plan).where(Account.status == "active")
    words = [w for w in (text or "").lower().split() if w][:5]
    if words:
        q = q.where(and_(*[or_(Account.name.icontains(w, autoescape=True), Account.key.icontains(w, autoescape=True)) for w in words]))
    with session_scope() as s:
        return [{"key": k, "name": n, "plan": p} for k, n, p in s.execute(q.order_by(Account.name).limit(limit))]


@st.cache_data(ttl=60, show_spinner=False)
def accuracy() -> dict:
    from core.tickets.queue import categoriser_accuracy

    from core.rollups.service import snapshot, snapshot_key

    with session_scope() as s:
        got = snapshot(session=s, key=snapshot_key("tickets_accuracy"), max_age_seconds=60)
        if got is not None:  # the worker's snapshot, younger than this cache's TTL (90 days of tickets at 1M)
            return got
        return categoriser_accuracy(session=s)


@st.cache_data(ttl=30, show_spinner=False)
def workload() -> list[dict]:
    from core.tickets.queue import workload as compute

    with session_scope() as s:
        return compute(session=s)


def ticket_detail(ticket_id: int, *, public_only: bool = False, customer=None) -> dict | None:
    """A ticket with its timeline and mail (not cached: the view must show the current version)."""
    from core.accounts.models import Account, Contact
    from core.auth.models import User
    from core.mail.service import outbox
    from core.tickets import service

    with session_scope() as s:
        try:
            if customer is not None:
                t = service.ticket_for_customer(session=s, actor=customer, ticket_id=ticket_id)
            else:
                t = service.get_ticket(session=s, ticket_id=ticket_id)
        except service.TicketNotFound:
            return None
        names = {u.id: u.name for u in s.scalars(select(User))}
        requester = s.get(Contact, t.requester_id) if t.requester_id else None
        account = s.get(Account, t.account_id)
        events = [{"at": e.at, "kind": e.kind, "public": e.public, "body": e.body, "data": e.data,
                   "who": names.get(e.actor_user_id) if e.actor_user_id else
                   ("customer" if e.actor_contact_id else "system")}
                  for e in service.timeline(session=s, ticket_id=t.id, public_only=public_only)]
        mail = [] if public_only else [
            {"to": m.to_addr, "subject": m.subject, "status": m.status, "attempts": m.attempts,
             "error": m.last_error, "created": m.created_at} for m in outbox(session=s, ticket_id=t.id)]
        return {
            "id": t.id, "reference": t.reference, "subject": t.subject, "description": t.description,
            "status": t.status, "priority": t.priority, "category": t.category, "source": t.category_source,
            "confidence": t.category_confidence, "needs_triage": t.needs_triage, "team_id": t.team_id,
            "assignee_id": t.assignee_id, "assignee": names.get(t.assignee_id), "version": t.version,
            "created_at": t.created_at, "updated_at": t.updated_at, "first_response_at": t.first_response_at,
            "solved_at": t.solved_at, "page_url": t.page_url, "user_agent": t.user_agent,
            "reproducible": t.reproducible, "channel": t.channel, "language": t.language,
            "requester": f"{requester.name} <{requester.email}>" if requester else "-",
            "account": f"{account.name} ({account.plan})", "account_key": account.key, "events": events,
            "mail": mail,
        }


def _size(n: int) -> str:
    return f"{n:,} bytes" if n < 1024 else f"{n / 1024:,.1f} KB" if n < 1024 ** 2 else f"{n / 1024 ** 2:,.1f} MB"


def render_attachments(actor, ticket_id: int) -> None:
    """The ticket's files (mail attachments) with a download button each; a refused one says why.
    What a customer sees is decided in core (only their account's tickets, only public events' files)."""
    from core.channels.attachments import attachments_for_ticket

    with session_scope() as s:
        files = attachments_for_ticket(session=s, actor=actor, ticket_id=ticket_id)
    if not files:
        return
    st.markdown("**Attachments**")
    for f in files:
        label = f"{f.filename} ({_size(f.size)}, {f.content_type})"
        if f.stored:
            st.download_button(label, data=f.load, file_name=f.filename, mime=f.content_type or None,
                               key=f"attachment_{f.id}", icon=":material/attach_file:")
        else:
            st.caption(f"{md_escape(label)}: not kept. {md_escape(f.note or '')}")


def clear() -> None:
    """Drop cached ticket data after a write (the SLA columns too: a status change pauses or stops a clock)."""
    from core.ui import sla

    for fn in (queue_page, accuracy, workload, sla.queue_columns, sla.live):
        fn.clear()


EVENT_LABELS = {
    "created": "opened the ticket", "status": "changed the status", "assigned": "assigned",
    "category": "changed the category", "priority": "changed the priority", "public_reply": "replied",
    "internal_note": "added an internal note", "customer_reply": "replied", "sla_breach": "SLA breached",
}


def render_timeline(events: list[dict]) -> None:
    """The timeline, user text always shown as plain text."""
    for e in events:
        data = e.get("data") or {}
        what = EVENT_LABELS.get(e["kind"], e["kind"])
        if e["kind"] == "status":
            what = f"changed the status {data.get('from')} → {data.get('to')}"
        elif e["kind"] == "assigned" and data.get("account"):
            what = f"moved the requester from account {data['account'].get('from')} to {data['account'].get('to')}"
        elif e["kind"] == "category" and data.get("confirmed"):
            what = f"confirmed the category {data.get('to')}"
        elif e["kind"] in ("category", "priority"):
            what = f"changed the {e['kind']} {data.get('from')} → {data.get('to')}"
        elif e["kind"] == "sla_breach":
            what = f"SLA breached: {data.get('target', '')}"
        with st.container(border=True):
            st.caption(f"{e['at']:%Y-%m-%d %H:%M} UTC · {md_escape(e['who'])} {md_escape(what)}"
                       + ("" if e["public"] else " · internal"))
            if e.get("body"):
                st.text(e["body"])
