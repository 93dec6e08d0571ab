"""The demo seeder leaves believable data: a bad month of churn, a reactivation, shipped feedback, follow-ups."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select

from core.feedback import demo, measures
from core.feedback.models import DetractorFollowUp, FeedbackItem, RoadmapLink, SubscriptionEvent
from tests.feedback.conftest import utc

NOW = utc(2026, 5, 20, 12)


def test_demo_seed_has_trends(session, make_account, make_contact, make_ticket, make_user):
    rng = random.Random(3)
    owner = make_user("support_lead")
    make_user("pm")
    plans = ["starter", "pro", "enterprise", "free"]
    contacts = []
    for i in range(24):
        plan = plans[i % 4]
        acc = make_account(f"acc{i}", plan=plan, mrr={"free": 0, "starter": 99, "pro": 499, "enterprise": 2500}[plan],
                           started_at=NOW - timedelta(days=200 + i), owner=owner)
        contacts += [make_contact(acc, language="es" if i % 3 == 0 else "en") for _ in range(3)]
    for i in range(150):
        c = rng.choice(contacts)
        created = NOW - timedelta(days=rng.uniform(1, 118))
        make_ticket(_account(session, c), requester=c,
                    category=rng.choice(["bug", "feature", "question"]), created_at=created,
                    solved_at=created + timedelta(hours=rng.uniform(1, 60)))
    session.commit()

    demo.seed(session=session, rng=random.Random(7), now=NOW, days=120, tickets=600)
    session.commit()

    assert session.scalar(select(func.count()).select_from(FeedbackItem)) > 150
    assert session.scalar(select(func.count()).select_from(SubscriptionEvent).where(
        SubscriptionEvent.type == "reactivated")) >= 1
    churn = measures.churn_by_month(session=session, start=NOW - timedelta(days=120), end=NOW)
    worst = max(churn, key=lambda r: r["logo_churn"] or 0)
    assert worst["cancelled"] >= 3          # the bad month
    nps = [r for r in measures.nps_by_month(session=session, start=NOW - timedelta(days=120), end=NOW) if r["responses"]]
    assert min(r["nps"] for r in nps) < max(r["nps"] for r in nps)
    assert session.scalar(select(func.count()).select_from(RoadmapLink)) > 10
    share = measures.feedback_implemented(session=session, start=NOW - timedelta(days=120), end=NOW, now=NOW)["share"]
    assert 0.05 < share < 0.6
    assert session.scalar(select(func.count()).select_from(DetractorFollowUp)) > 0
    stats = measures.followup_stats(session=session, start=NOW - timedelta(days=120), end=NOW)
    assert stats["done"] > 0 and stats["median_hours_to_done"] > 0


def _account(session, contact):
    from core.accounts.models import Account

    return session.get(Account, contact.account_id)
