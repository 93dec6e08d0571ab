"""Demo feedback: subscription history with a bad month, ratings, NPS and CSAT with a recovering plan, roadmap, follow-ups."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core.accounts.models import Account, Contact
from core.auth.models import User
from core.demo.bulk import copy_rows, reserve_ids
from core.feedback import service
from core.feedback.models import (CsatRequest, DetractorFollowUp, FeedbackItem, NpsSurveyOffer, RoadmapItem,
                                  RoadmapLink, SubscriptionEvent)
from core.tickets.models import Ticket

# theme -> (sentiment -1..1, English comments, Spanish comments)
THEMES = {
    "performance": (-1.0, [
        "The dashboard is very slow to load in the afternoon",
        "Everything is slow this month, the dashboard takes ages to load",
        "Pages load slowly and the dashboard times out",
        "Slow dashboard, the charts take a minute to load",
    ], [
        "El panel tarda mucho en cargar por las tardes",
        "La plataforma va muy lenta y el panel no carga",
        "El panel va muy lento al cargar los gráficos",
    ]),
    "export": (-0.3, [
        "Please add CSV export for reports",
        "We need to export reports to CSV and Excel for our finance team",
        "Export of analytics reports to CSV is missing",
    ], [
        "Necesitamos exportar los informes a CSV",
        "Falta exportar los informes de analítica a CSV y Excel",
    ]),
    "sso": (-0.5, [
        "We need SSO login with Okta for our whole team",
        "SSO login with Azure AD is a must for us",
        "Login with SAML SSO please, passwords are a security risk",
    ], [
        "Necesitamos login con SSO y Okta",
        "El login con SAML SSO es imprescindible para nosotros",
    ]),
    "billing": (-0.8, [
        "Billing charged us twice and the invoice is confusing",
        "The invoice shows the wrong price, billing is confusing",
    ], [
        "La factura es confusa, facturación nos cobró dos veces",
        "La factura muestra un precio incorrecto, la facturación es confusa",
    ]),
    "support": (1.0, [
        "Support solved it quickly, a friendly team",
        "Great support, they solved it quickly",
        "Support answered quickly and solved it in minutes",
    ], [
        "El soporte lo resolvió rápido, un equipo amable",
        "Excelente soporte, lo resolvieron muy rápido",
    ]),
    "docs": (-0.2, [
        "The API documentation lacks examples for webhooks",
        "Webhooks documentation is outdated and the API examples fail",
    ], [
        "La documentación de la API no tiene ejemplos de webhooks",
        "La documentación de webhooks está desactualizada, faltan ejemplos",
    ]),
    "builder": (0.7, [
        "Love the new visual agent builder, very easy to use",
        "The visual agent builder saves us hours every week",
    ], [
        "Me encanta el nuevo constructor visual de agentes, muy fácil",
        "El constructor visual de agentes nos ahorra horas cada semana",
    ]),
}
THEME_WEIGHTS = {"performance": 3, "export": 2, "sso": 2, "billing": 1.2, "support": 3, "docs": 1.2, "builder": 1.6}
CSAT_THEME_WEIGHTS = {"performance": 1, "billing": 1, "support": 2.5, "docs": 1}
PAGES = ["/dashboard", "/agents", "/agents/builder", "/analytics", "/billing", "/integrations", "/settings/team"]
ITEM_COLUMNS = ("kind", "score", "comment", "page", "language", "source", "account_id", "contact_id", "ticket_id",
                "created_at", "updated_at")
PLAN_BASE = {"free": -0.8, "starter": 0.0, "pro": 0.5, "enterprise": 0.7}

# roadmap title, feedback theme, status, shipped this many days ago (as a share of the demo window), ticket words
ROADMAP = [
    ("Visual agent builder", "builder", "shipped", 0.95, ("builder", "constructor")),
    ("CSV and Excel export of reports", "export", "shipped", 0.55, ("export", "csv", "excel", "exportar")),
    ("Faster dashboard loading", "performance", "shipped", 0.30, ()),
    ("Clearer invoices", "billing", "shipped", 0.12, ()),
    ("Version diff for workflows", None, "shipped", 0.40, ("version diff", "comparar versiones")),
    ("Dark mode", None, "shipped", 0.08, ("dark mode", "modo oscuro")),
    ("SSO with SAML and Okta", "sso", "in_progress", None, ("sso", "saml", "okta")),
    ("Microsoft Teams integration", None, "in_progress", None, ("teams",)),
    ("API docs with runnable examples", "docs", "planned", None, ()),
    ("Slack approvals", None, "planned", None, ("slack",)),
    ("Bulk edit of workflows", None, "planned", None, ("bulk edit",)),
]


def _month_start(dt: datetime) -> datetime:
    return dt.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def seed(*, session: Session, rng: random.Random, now: datetime, days: int, tickets: int) -> None:
    """Seed subscription events, feedback, NPS offers, CSAT requests, roadmap links and follow-ups."""
    window_start = now - timedelta(days=days)
    bad_month = _month_start(now - timedelta(days=days * 0.45))
    accounts = list(session.scalars(select(Account).order_by(Account.id)))
    if not accounts:
        return
    _subscriptions(session, rng, now, accounts, bad_month)
    contacts = list(session.scalars(select(Contact).order_by(Contact.id)))
    by_id = {a.id: a for a in accounts}
    demo_contact = session.scalar(select(User.contact_id).where(User.username == "customer"))

    def quality(at: datetime, plan: str) -> float:
        q = PLAN_BASE.get(plan, 0.0)
        if _month_start(at) == bad_month:
            q -= 2.2
        if plan == "starter":  # the recovering plan: poor at the start of the window, good at its end
            q += -2.5 + 3.2 * max(0.0, min(1.0, (at - window_start) / (now - window_start)))
        return q

    def comment(at: datetime, lang: str, kind: str) -> tuple[str, str]:
        weights = dict(CSAT_THEME_WEIGHTS if kind == "csat" else THEME_WEIGHTS)
        if _month_start(at) == bad_month:
            weights["performance"] *= 3
        shipped_perf = now - timedelta(days=days * 0.30)
        if at > shipped_perf:
            weights["performance"] *= 0.3
        theme = rng.choices(list(weights), weights=list(weights.values()))[0]
        _, en, es = THEMES[theme]
        return theme, rng.choice(es if lang == "es" else en)

    def when() -> datetime:
        return now - timedelta(days=rng.uniform(0, days), minutes=rng.randint(1, 600))

    items: list[dict] = []
    themes_of: list[str | None] = []

    def add(kind, score, at, contact, ticket_id=None, page=None, with_comment=0.6):
        acc = by_id[contact.account_id]
        theme, text = (None, "")
        if rng.random() < with_comment:
            theme, text = comment(at, contact.language, kind)
            sentiment = THEMES[theme][0]
            score = score + (round(sentiment * (1.5 if kind == "nps" else 0.7)))
        lo, hi = (0, 10) if kind == "nps" else (1, 5)
        items.append(dict(kind=kind, score=max(lo, min(hi, score)), comment=text, page=page, language=contact.language,
                          source="demo", account_id=acc.id, contact_id=contact.id, ticket_id=ticket_id,
                          created_at=at, updated_at=at))
        themes_of.append(theme)

    # Portal star ratings.
    for _ in range(max(40, tickets // 8)):
        contact = rng.choice(contacts)
        at = when()
        acc = by_id[contact.account_id]
        score = round(rng.gauss(4.1 + quality(at, acc.plan) / 2.2, 0.8))
        add("rating", score, at, contact, page=rng.choice(PAGES), with_comment=0.75)

    # NPS: each contact is offered a survey at most once per 90 days; about two thirds answer.
    offers = []
    for contact in contacts:
        if contact.id == demo_contact:
            continue  # the demo customer still has a survey due
        at = now - timedelta(days=rng.uniform(1, min(days, 90)), minutes=rng.randint(1, 600))
        while at > window_start:
            acc = by_id[contact.account_id]
            answered = rng.random() < 0.78
            offers.append(dict(contact_id=contact.id, offered_at=at,
                               answered_at=at + timedelta(minutes=3) if answered else None,
                               dismissed_at=None if answered else at + timedelta(minutes=1), index=len(items)))
            if answered:
                score = round(rng.gauss(7.6 + quality(at, acc.plan), 1.7))
                add("nps", score, at + timedelta(minutes=3), contact, page="nps-survey", with_comment=0.6)
            at -= timedelta(days=91 + rng.uniform(0, 20))

    # CSAT on solved tickets, about a third answered; a request (portal prompt) for the recent ones.
    solved = session.execute(select(Ticket.id, Ticket.account_id, Ticket.requester_id, Ticket.solved_at)
                             .where(Ticket.solved_at.is_not(None), Ticket.requester_id.is_not(None))
                             .order_by(Ticket.id)).all()
    contact_by_id = {c.id: c for c in contacts}
    requests = []
    for t in solved:
        recent = t.solved_at > now - timedelta(days=14)
        is_demo = t.requester_id == demo_contact
        if recent:
            requests.append(dict(ticket_id=t.id, contact_id=t.requester_id, requested_at=t.solved_at))
        if is_demo and recent:
            continue  # leave the demo customer something to rate
        if rng.random() < 0.33:
            at = t.solved_at + timedelta(hours=rng.uniform(0.2, 30))
            if at >= now:
                continue  # not answered yet
            acc = by_id[t.account_id]
            score = round(rng.gauss(4.2 + quality(at, acc.plan) / 2.0, 0.8))
            add("csat", score, at, contact_by_id[t.requester_id], ticket_id=t.id, page=f"ticket/{t.id}",
                with_comment=0.22)

    ids = reserve_ids(session, FeedbackItem.__tablename__, len(items))  # bulk COPY: big demo sets load in seconds
    copy_rows(session, FeedbackItem.__tablename__, ("id",) + ITEM_COLUMNS,
              ((fid,) + tuple(row[c] for c in ITEM_COLUMNS) for fid, row in zip(ids, items)))
    for o in offers:
        idx = o.pop("index")
        o["feedback_item_id"] = ids[idx] if o["answered_at"] and idx < len(ids) else None
    if offers:
        session.execute(insert(NpsSurveyOffer), offers)
    answered = {r["ticket_id"]: r for r, i in zip(items, ids) if r["kind"] == "csat"}
    for r in requests:
        if r["ticket_id"] in answered:
            r["answered_at"] = answered[r["ticket_id"]]["created_at"]
        else:
            r["answered_at"] = None
    if requests:
        session.execute(insert(CsatRequest), requests)

    _roadmap(session, rng, now, days, ids, items, themes_of)
    _followups(session, rng, now, ids, items, by_id)
    session.flush()


def _subscriptions(session: Session, rng: random.Random, now: datetime, accounts: list[Account],
                   bad_month: datetime) -> None:
    """Events for every account (upgrades, downgrades), extra cancellations in the bad month, and reactivations."""
    bad_end = (bad_month + timedelta(days=32)).replace(day=1)
    candidates = [a for a in accounts if a.status == "active" and a.plan in ("starter", "pro")
                  and a.started_at < bad_month - timedelta(days=30)]
    rng.shuffle(candidates)
    extra_cancel = {a.id for a in candidates[:4]}
    come_back = {a.id for a in candidates[:2]}          # two of the bad month's leavers come back
    same_month = candidates[4] if len(candidates) > 4 else None
    rows = []
    for acc in accounts:
        mrr = float(acc.mrr or 0)
        start_mrr = mrr
        change = rng.random()
        change_at = acc.started_at + (min(now, acc.cancelled_at or now) - acc.started_at) * rng.uniform(0.3, 0.8)
        if mrr and change < 0.25:
            start_mrr = round(mrr / 2, 2)
            rows.append(dict(account_id=acc.id, type="upgraded", at=change_at, mrr=mrr))
        elif mrr and change < 0.33:
            start_mrr = round(mrr * 1.5, 2)
            rows.append(dict(account_id=acc.id, type="downgraded", at=change_at, mrr=mrr))
        rows.append(dict(account_id=acc.id, type="started", at=acc.started_at, mrr=start_mrr))
        if acc.cancelled_at:
            rows.append(dict(account_id=acc.id, type="cancelled", at=acc.cancelled_at, mrr=mrr))
        if acc.id in extra_cancel:
            at = bad_month + timedelta(days=rng.uniform(2, 26))
            rows.append(dict(account_id=acc.id, type="cancelled", at=at, mrr=mrr))
            if acc.id in come_back:
                back = min(now - timedelta(days=1), at + timedelta(days=rng.uniform(20, 40)))
                if back < bad_end:
                    back = bad_end + timedelta(days=3)
                if back < now:
                    rows.append(dict(account_id=acc.id, type="reactivated", at=back, mrr=mrr))
        if same_month is not None and acc.id == same_month.id:
            month = _month_start(now - timedelta(days=20))
            at = month + timedelta(days=2)
            if at < now - timedelta(days=2):
                rows.append(dict(account_id=acc.id, type="cancelled", at=at, mrr=mrr))
                rows.append(dict(account_id=acc.id, type="reactivated",
                                 at=min(now - timedelta(hours=1), at + timedelta(days=8)), mrr=mrr))
    session.execute(insert(SubscriptionEvent), rows)
    session.flush()
    for acc in accounts:
        service.sync_account_from_events(session=session, account=acc)


def _roadmap(session: Session, rng: random.Random, now: datetime, days: int, ids: list[int], items: list[dict],
             themes_of: list[str | None]) -> None:
    pm = session.scalar(select(User.id).where(User.role == "pm").order_by(User.id))
    by_theme, by_words = {}, []
    for title, theme, status, ago, words in ROADMAP:
        shipped_at = now - timedelta(days=days * ago) if status == "shipped" else None
        item = RoadmapItem(title=title, status=status, shipped_at=shipped_at, created_by=pm,
                           created_at=now - timedelta(days=days + 30), updated_at=shipped_at or now,
                           description="Asked for in customer feedback and feature requests.")
        session.add(item)
        session.flush()
        if theme:
            by_theme[theme] = item.id
        if words:
            by_words.append((item.id, words))
    links = []
    for fid, row, theme in zip(ids, items, themes_of):
        if theme in by_theme and rng.random() < 0.8:
            links.append(dict(roadmap_item_id=by_theme[theme], feedback_item_id=fid, linked_by=pm,
                              linked_at=row["created_at"] + timedelta(days=rng.uniform(0.5, 5))))
    features = session.execute(select(Ticket.id, Ticket.subject, Ticket.created_at)
                               .where(Ticket.category == "feature").order_by(Ticket.id)).all()
    for t in features:
        subject = t.subject.lower()
        for rid, words in by_words:
            if any(w in subject for w in words) and rng.random() < 0.85:
                links.append(dict(roadmap_item_id=rid, ticket_id=t.id, linked_by=pm,
                                  linked_at=t.created_at + timedelta(hours=rng.uniform(2, 48))))
                break
    for link in links:
        link.setdefault("linked_at", now)
        link["linked_at"] = min(link["linked_at"], now)
    if links:
        session.execute(insert(RoadmapLink), [{"feedback_item_id": None, "ticket_id": None, **link} for link in links])


def _followups(session: Session, rng: random.Random, now: datetime, ids: list[int], items: list[dict],
               by_id: dict[int, Account]) -> None:
    rows = []
    for fid, row in zip(ids, items):
        acc = by_id[row["account_id"]]
        if row["kind"] != "nps" or row["score"] > service.DETRACTOR_MAX or not acc.mrr or acc.status != "active":
            continue
        opened = row["created_at"]
        done_at = None
        age = now - opened
        if rng.random() < (0.95 if age > timedelta(days=14) else 0.7 if age > timedelta(days=3) else 0.25):
            done_at = min(now, opened + timedelta(hours=rng.lognormvariate(3.0, 0.8)))
        rows.append(dict(feedback_item_id=fid, account_id=acc.id, owner_user_id=acc.owner_user_id, opened_at=opened,
                         status="done" if done_at else "open", done_at=done_at,
                         done_by=acc.owner_user_id if done_at else None,
                         note="Called the customer; shared the fix timeline." if done_at else ""))
    if rows:
        session.execute(insert(DetractorFollowUp), rows)


