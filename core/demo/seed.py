"""Deterministic, realistic demo data: accounts, contacts, staff, teams and tickets, then each domain's seeder.

Domains extend the demo by listing a seeder in SEEDERS: "module:function", called as
function(session=..., rng=random.Random, now=datetime (UTC), days=int, tickets=int) after the base data,
in the same transaction.
"""

from __future__ import annotations

import importlib
import logging
import random
from contextlib import nullcontext
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.accounts.models import Account, Contact
from core.auth.models import Team, User
from core.auth.service import hash_password
from core.config import get_settings
from core.db import session_scope
from core.demo.bulk import copy_rows, indexes_deferred, reserve_ids
from core.demo.texts import COMPANIES, FIRST, LAST, TEXTS
from core.tickets.enums import Category, CategorySource, Channel, TicketStatus
from core.tickets.models import Ticket

log = logging.getLogger(__name__)

SEEDERS = [
    "core.feedback.demo:seed",
    "core.sla.demo:seed",
    "core.flags.demo:seed",
    "core.loop.demo:seed",
]

TEAMS = [("tech", "Tech"), ("support", "Support"), ("product", "Product"), ("billing", "Billing")]
PLANS = [("free", 0, 0.15), ("starter", 99, 0.35), ("pro", 499, 0.35), ("enterprise", 2500, 0.15)]
TZ = ZoneInfo("Europe/Madrid")
CATEGORY_MIX = [("bug", 0.30), ("question", 0.32), ("feature", 0.14), ("performance", 0.12), ("billing", 0.12)]
REINDEX_FROM = 50_000  # from this many tickets, rebuild the tickets' and events' indexes after the load
TICKETS_PER_ACCOUNT = 150  # big sets get more accounts (and contacts) in proportion
TICKET_COLUMNS = ("id", "account_id", "requester_id", "subject", "description", "reproducible", "language", "channel",
                  "status", "priority", "category", "category_source", "category_confidence", "needs_triage",
                  "team_id", "assignee_id", "created_at", "updated_at", "first_response_at", "solved_at", "closed_at")
DEFAULT_DEMO_PASSWORD = "aftercare-demo"
COMPANY_KEY_PROBE = COMPANIES[0].lower().replace(" ", "-")  # the first demo account: seeded already?


def run(*, tickets: int = 3000, days: int = 120, seed: int = 7, if_empty: bool = False,
        now: datetime | None = None) -> str:
    """Seed the configured database; returns a one-line summary."""
    with session_scope() as s:
        if if_empty and s.scalar(select(func.count()).select_from(Ticket)):
            return "database already has tickets: demo seed skipped"
        if s.scalar(select(func.count()).select_from(Account).where(Account.key == COMPANY_KEY_PROBE)):
            raise SeedError("this database already holds the demo data (its accounts exist); seeding twice would "
                            "collide. Use a fresh database: `make clean-var` for the embedded one, or "
                            "--if-empty to skip when there are tickets")
        summary = seed_all(session=s, tickets=tickets, days=days, seed=seed, now=now)
    return summary


class SeedError(RuntimeError):
    """The demo data cannot be loaded into this database; the message says why and what to do."""


def seed_all(*, session: Session, tickets: int, days: int, seed: int, now: datetime | None = None) -> str:
    """Base data, tickets, then every domain seeder, in the caller's transaction."""
    rng = random.Random(seed)
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    teams = _teams(session)
    staff = _staff(session, rng, teams)
    accounts = _accounts(session, rng, now, days, staff, tickets)
    contacts = _contacts(session, rng, accounts)
    _customer_login(session, contacts)
    n = _tickets(session, rng, now, days, tickets, accounts, contacts, staff, teams)
    done = []
    for spec in SEEDERS:
        module, fn = spec.split(":")
        try:
            seeder = getattr(importlib.import_module(module), fn)
        except (ImportError, AttributeError):
            continue
        seeder(session=session, rng=random.Random(f"{seed}:{spec}"), now=now, days=days, tickets=tickets)
        done.append(module.split(".")[1])
    session.execute(text("ANALYZE"))
    return (f"seeded {len(accounts)} accounts, {len(contacts)} contacts, {len(staff)} staff, {n} tickets over "
            f"{days} days" + (f"; plus {', '.join(done)}" if done else ""))


def demo_password() -> str:
    """DEMO_PASSWORD from the environment or .env (the settings), else the default."""
    return get_settings().demo_password.get_secret_value() or DEFAULT_DEMO_PASSWORD


def _teams(session: Session) -> dict[str, Team]:
    out = {}
    for key, name in TEAMS:
        team = session.scalar(select(Team).where(Team.key == key))
        if team is None:
            team = Team(key=key, name=name)
            session.add(team)
        out[key] = team
    session.flush()
    return out


def _staff(session: Session, rng: random.Random, teams: dict[str, Team]) -> list[User]:
    hashed = hash_password(demo_password())
    people = [
        ("lead", "Sara Lead", "support_lead", "support", None),
        ("ops", "Omar Ops", "ops", None, None),
        ("pm", "Paula PM", "pm", "product", None),
        ("agent", "Alex Agent", "agent", "support", 25),
        ("lucia", "Lucía Fernández", "agent", "support", 25),
        ("tom", "Tom Becker", "agent", "support", None),
        ("ines", "Inés Romero", "agent", "tech", None),
        ("raj", "Raj Patel", "agent", "tech", 30),
        ("mei", "Mei Chen", "agent", "tech", None),
        ("pedro", "Pedro Gil", "agent", "billing", None),
        ("noor", "Noor Haddad", "agent", "product", None),
        ("techlead", "Kai Tech Lead", "support_lead", "tech", None),
    ]
    users = []
    for username, name, role, team, capacity in people:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(username=username, name=name, email=f"{username}@aftercare.local", role=role,
                        team_id=teams[team].id if team else None, password_hash=hashed, capacity=capacity)
            session.add(user)
        users.append(user)
    session.flush()
    lead = {u.username: u for u in users}
    teams["support"].lead_user_id = lead["lead"].id
    teams["tech"].lead_user_id = lead["techlead"].id
    teams["product"].lead_user_id = lead["pm"].id
    teams["billing"].lead_user_id = lead["lead"].id
    return users


def _accounts(session: Session, rng: random.Random, now: datetime, days: int, staff: list[User],
              tickets: int = 0) -> list[Account]:
    owners = [u for u in staff if u.role in ("support_lead", "agent")]
    rows = []
    companies = list(COMPANIES) + [f"{COMPANIES[i % len(COMPANIES)]} {i // len(COMPANIES) + 1}"
                                   for i in range(max(0, tickets // TICKETS_PER_ACCOUNT - len(COMPANIES)))]
    for i, company in enumerate(companies):
        plan, base, _ = rng.choices(PLANS, weights=[p[2] for p in PLANS])[0]
        started = now - timedelta(days=rng.randint(30, days + 400))
        churned = plan != "enterprise" and rng.random() < 0.12
        cancelled = now - timedelta(days=rng.randint(1, max(2, days - 5))) if churned else None
        mrr = Decimal(base) * (1 + rng.randint(0, 4)) if base else Decimal(0)
        rows.append(Account(key=company.lower().replace(" ", "-"), name=company, plan=plan, mrr=mrr,
                            status="churned" if churned else "active", started_at=started, cancelled_at=cancelled,
                            owner_user_id=rng.choice(owners).id))
    session.add_all(rows)
    session.flush()
    return rows


def _contacts(session: Session, rng: random.Random, accounts: list[Account]) -> list[Contact]:
    rows = []
    for acc in accounts:
        spanish = rng.random() < 0.4
        for j in range(rng.randint(2, 4)):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = f"{first.lower()}.{j}@{acc.key}.example.com".replace("í", "i").replace("á", "a")
            rows.append(Contact(account_id=acc.id, email=email, name=f"{first} {last}", language="es" if spanish else "en"))
    session.add_all(rows)
    session.flush()
    return rows


def _customer_login(session: Session, contacts: list[Contact]) -> None:
    if session.scalar(select(User.id).where(User.username == "customer")):
        return
    contact = contacts[0]
    session.add(User(username="customer", name=contact.name, email=contact.email, role="customer",
                     contact_id=contact.id, password_hash=hash_password(demo_password())))
    session.flush()


def business_instant(rng: random.Random, day: datetime) -> datetime:
    """A moment on day's business hours in Madrid (weekdays 08:00-19:00, busier mid-morning)."""
    local = day.astimezone(TZ).replace(hour=8, minute=0, second=0)
    while local.weekday() >= 5 and rng.random() < 0.85:
        local -= timedelta(days=1)
    minute = int(min(659, max(0, rng.gauss(240, 150))))
    return (local + timedelta(minutes=minute)).astimezone(timezone.utc)


def _tickets(session: Session, rng: random.Random, now: datetime, days: int, n: int, accounts: list[Account],
             contacts: list[Contact], staff: list[User], teams: dict[str, Team]) -> int:
    from core.tickets.classify import classify_many
    from core.tickets.rules import suggest_priority, team_for

    by_account: dict[int, list[Contact]] = {}
    for c in contacts:
        by_account.setdefault(c.account_id, []).append(c)
    agents_by_team: dict[int, list[User]] = {}
    for u in staff:
        if u.role == "agent" and u.team_id:
            agents_by_team.setdefault(u.team_id, []).append(u)
    live = list(accounts)
    active = [a for a in live if not a.cancelled_at]
    drafts = []
    for _ in range(n):
        age_days = min(days - 0.01, rng.expovariate(1 / (days / 2.5)))
        created = business_instant(rng, now - timedelta(days=age_days))
        if created >= now:
            created = now - timedelta(minutes=rng.randint(5, 600))
        acc = rng.choice(live)
        if acc.cancelled_at and created > acc.cancelled_at:
            acc = rng.choice(active)
        contact = rng.choice(by_account[acc.id])
        true_cat = rng.choices([c for c, _ in CATEGORY_MIX], weights=[w for _, w in CATEGORY_MIX])[0]
        lang = contact.language if rng.random() < 0.9 else ("es" if contact.language == "en" else "en")
        subject, description = rng.choice(TEXTS[true_cat][lang])
        reproducible = rng.choice([True, False, None]) if true_cat == "bug" else None
        drafts.append(dict(acc=acc, contact=contact, created=created, subject=subject, description=description,
                           reproducible=reproducible, lang=lang, true_cat=true_cat))
    # Texts come from a small pool: categorise each distinct text once (same model, same answers).
    keys = [(d["subject"], d["description"], d["reproducible"]) for d in drafts]
    distinct = list(dict.fromkeys(keys))
    answers = dict(zip(distinct, classify_many([{"subject": k[0], "description": k[1], "reproducible": k[2]}
                                                for k in distinct], local_only=True)))
    preds = [answers[k] for k in keys]
    ticket_rows = []
    corrections = []  # (row index, the model's category): tickets an agent recategorised while answering
    threshold = get_settings().classify_confidence_threshold
    for d, p in zip(drafts, preds):
        category = Category(p.category)
        source, confidence = CategorySource.MODEL, round(float(p.confidence), 4)
        priority = suggest_priority(category=category, reproducible=d["reproducible"], plan=d["acc"].plan)
        team = teams[team_for(category)]
        agents = agents_by_team.get(team.id) or []
        age_h = (now - d["created"]).total_seconds() / 3600
        first_h = rng.lognormvariate(0.1, 0.9) if priority != "low" else rng.lognormvariate(1.0, 0.9)
        resolve_h = first_h + rng.lognormvariate(2.3, 1.0)
        first_at = d["created"] + timedelta(hours=first_h) if first_h < age_h else None
        solved_at = d["created"] + timedelta(hours=resolve_h) if resolve_h < age_h else None
        if solved_at:
            status = TicketStatus.CLOSED if (now - solved_at).days > 4 else TicketStatus.SOLVED
        elif first_at:
            status = rng.choice([TicketStatus.OPEN, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.ON_HOLD])
        else:
            status = TicketStatus.NEW
        assignee = rng.choice(agents) if agents and (status != TicketStatus.NEW or rng.random() < 0.7) else None
        if first_at and assignee and Category(d["true_cat"]) != category:
            # The model got an ambiguous text wrong; the agent who answered put it right (as change_category does).
            corrections.append((len(ticket_rows), category, confidence))
            category, source, confidence = Category(d["true_cat"]), CategorySource.HUMAN, 1.0
        ticket_rows.append(dict(
            account_id=d["acc"].id, requester_id=d["contact"].id, subject=d["subject"], description=d["description"],
            reproducible=d["reproducible"], language=d["lang"], channel=rng.choice([Channel.PORTAL, Channel.PORTAL, Channel.EMAIL, Channel.STAFF]),
            status=status, priority=priority, category=category, category_source=source,
            category_confidence=confidence, needs_triage=float(p.confidence) < threshold and status == TicketStatus.NEW,
            team_id=team.id, assignee_id=assignee.id if assignee else None, created_at=d["created"],
            updated_at=max(x for x in (d["created"], first_at, solved_at) if x),
            first_response_at=first_at, solved_at=solved_at,
            closed_at=solved_at + timedelta(days=4) if status == TicketStatus.CLOSED else None))
    ids = reserve_ids(session, "tickets", len(ticket_rows))
    for tid, row in zip(ids, ticket_rows):
        row["id"] = tid
    with indexes_deferred(session, ("tickets", "ticket_events")) if n >= REINDEX_FROM else nullcontext():
        copy_rows(session, "tickets", TICKET_COLUMNS, ([row.get(c) for c in TICKET_COLUMNS] for row in ticket_rows))
        # The corrections first: the 'created' events below name the category the model gave, as the service wrote it.
        copy_rows(session, "ticket_events", CORRECTION_COLUMNS,
                  (_correction(ticket_rows[i], model, conf) for i, model, conf in corrections))
        if ids:
            session.execute(text(EVENTS_SQL), {"lo": ids[0], "hi": ids[-1]})
    return len(ids)


CORRECTION_COLUMNS = ("ticket_id", "at", "kind", "public", "actor_user_id", "body", "data")


def _correction(row: dict, model: Category, model_confidence: float) -> tuple:
    """The 'category' event of an agent's correction, with the labelled example retraining reads."""
    import json

    data = {"from": str(model), "to": str(row["category"]), "source": "human", "subject": row["subject"],
            "description": row["description"][:4000], "model_confidence": model_confidence}
    return (row["id"], row["first_response_at"], "category", False, row["assignee_id"],
            "the model's category did not fit: corrected while answering", json.dumps(data, ensure_ascii=False))


# Each new ticket's timeline, derived in SQL from its row (same events the ticket service would have written):
# created, auto-assigned, then the first reply and status changes, in ticket order.
EVENTS_SQL = """
INSERT INTO ticket_events (ticket_id, at, kind, public, actor_user_id, actor_contact_id, body, data)
SELECT ticket_id, at, kind, public, actor_user_id, actor_contact_id, body, data FROM (
  SELECT t.id AS ticket_id, 1 AS n, t.created_at AS at, 'created' AS kind, true AS public, NULL::int AS actor_user_id,
         t.requester_id AS actor_contact_id, t.description AS body,
         jsonb_build_object('channel', t.channel, 'category', coalesce(c.data ->> 'from', t.category), 'source', 'model',
                            'confidence', coalesce((c.data ->> 'model_confidence')::numeric, t.category_confidence),
                            'priority', t.priority) AS data
    FROM tickets t LEFT JOIN ticket_events c ON c.ticket_id = t.id AND c.kind = 'category'
   WHERE t.id BETWEEN :lo AND :hi
  UNION ALL
  SELECT t.id, 2, t.created_at, 'assigned', false, NULL, NULL, NULL,
         jsonb_build_object('team_id', t.team_id, 'assignee_id', t.assignee_id, 'auto', true)
    FROM tickets t WHERE t.id BETWEEN :lo AND :hi
  UNION ALL
  SELECT t.id, 3, t.first_response_at, 'public_reply', true, t.assignee_id, NULL,
         CASE WHEN t.language = 'en' THEN 'Thanks for the details, we are looking into it.'
              ELSE 'Gracias por los detalles, lo estamos revisando.' END, '{}'::jsonb
    FROM tickets t WHERE t.id BETWEEN :lo AND :hi AND t.first_response_at IS NOT NULL
  UNION ALL
  SELECT t.id, 4, t.first_response_at, 'status', true, t.assignee_id, NULL, NULL,
         jsonb_build_object('from', 'new', 'to', 'open')
    FROM tickets t WHERE t.id BETWEEN :lo AND :hi AND t.first_response_at IS NOT NULL
  UNION ALL
  SELECT t.id, 5, t.first_response_at + interval '1 minute', 'status', true, t.assignee_id, NULL, NULL,
         jsonb_build_object('from', 'open', 'to', t.status)
    FROM tickets t WHERE t.id BETWEEN :lo AND :hi AND t.first_response_at IS NOT NULL
     AND t.status IN ('pending', 'on_hold')
  UNION ALL
  SELECT t.id, 6, t.solved_at, 'status', true, t.assignee_id, NULL, NULL,
         jsonb_build_object('from', 'open', 'to', 'solved')
    FROM tickets t WHERE t.id BETWEEN :lo AND :hi AND t.solved_at IS NOT NULL
  UNION ALL
  SELECT t.id, 7, t.closed_at, 'status', true, NULL, NULL, NULL,
         jsonb_build_object('from', 'solved', 'to', 'closed')
    FROM tickets t WHERE t.id BETWEEN :lo AND :hi AND t.solved_at IS NOT NULL AND t.closed_at IS NOT NULL
) e ORDER BY ticket_id, n
"""
