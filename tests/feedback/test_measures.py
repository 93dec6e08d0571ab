"""Each measure against values computed by hand on small datasets, including the edges."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.feedback import measures
from core.feedback.models import FeedbackItem, RoadmapItem, RoadmapLink, SubscriptionEvent
from tests.feedback.conftest import utc

JAN, FEB, MAR, APR = utc(2026, 1, 1), utc(2026, 2, 1), utc(2026, 3, 1), utc(2026, 4, 1)


def _fb(session, account, kind, score, at, ticket=None, comment=""):
    item = FeedbackItem(kind=kind, score=score, account_id=account.id, created_at=at, updated_at=at,
                        ticket_id=getattr(ticket, "id", None), comment=comment, source="import")
    session.add(item)
    session.flush()
    return item


def test_nps_by_hand_including_no_responses_and_all_detractors(session, make_account):
    acc = make_account("acme")
    for s in (10, 10, 9, 3):
        _fb(session, acc, "nps", s, JAN + timedelta(days=3))
    for s in (0, 5, 6):
        _fb(session, acc, "nps", s, MAR + timedelta(days=3))
    _fb(session, acc, "rating", 1, JAN + timedelta(days=3))  # not an NPS response

    jan = measures.nps(session=session, start=JAN, end=FEB)
    assert (jan["nps"], jan["responses"], jan["promoters"], jan["detractors"], jan["too_few"]) == (50.0, 4, 3, 1, True)
    feb = measures.nps(session=session, start=FEB, end=MAR)
    assert (feb["nps"], feb["responses"]) == (None, 0)
    mar = measures.nps(session=session, start=MAR, end=APR)
    assert (mar["nps"], mar["responses"]) == (-100.0, 3)
    # Over the quarter: 3 promoters, 4 detractors of 7 -> -14.3
    assert measures.nps(session=session, start=JAN, end=APR)["nps"] == -14.3

    months = measures.nps_by_month(session=session, start=JAN, end=APR)
    assert [(r["month"].month, r["nps"], r["responses"]) for r in months] == [(1, 50.0, 4), (2, None, 0), (3, -100.0, 3)]


def test_nps_of_thirty_responses_is_trusted(session, make_account):
    acc = make_account("acme")
    for i in range(30):
        _fb(session, acc, "nps", 9 if i < 20 else 7, JAN + timedelta(hours=i))
    r = measures.nps(session=session, start=JAN, end=FEB)
    assert (r["nps"], r["responses"], r["too_few"]) == (66.7, 30, False)


def test_csat_share_and_average_and_rating_average(session, make_account, make_ticket):
    acc = make_account("acme")
    for s in (5, 4, 3, 1):
        _fb(session, acc, "csat", s, JAN + timedelta(days=2), ticket=make_ticket(acc))
    _fb(session, acc, "rating", 5, JAN + timedelta(days=2))
    _fb(session, acc, "rating", 4, JAN + timedelta(days=2))

    c = measures.csat(session=session, start=JAN, end=FEB)
    assert (c["responses"], c["csat_share"], c["csat_average"]) == (4, 0.5, 3.25)
    assert measures.rating_average(session=session, start=JAN, end=FEB)["rating_average"] == 4.5
    empty = measures.csat(session=session, start=FEB, end=MAR)
    assert (empty["responses"], empty["csat_share"], empty["csat_average"]) == (0, None, None)
    assert measures.rating_average(session=session, start=FEB, end=MAR)["rating_average"] is None
    by_month = measures.csat_by_month(session=session, start=JAN, end=MAR)
    assert [(r["month"].month, r["csat_share"]) for r in by_month] == [(1, 0.5), (2, None)]


def _churn_dataset(session, make_account):
    def ev(acc, type_, at, mrr):
        session.add(SubscriptionEvent(account_id=acc.id, type=type_, at=at, mrr=mrr))

    # A and B have no events: their history comes from the accounts table.
    make_account("a", plan="pro", mrr=100, started_at=utc(2025, 6, 1))
    make_account("b", plan="starter", mrr=200, started_at=utc(2025, 6, 1), status="churned",
                 cancelled_at=utc(2026, 1, 15))
    c = make_account("c", plan="pro", mrr=50, started_at=utc(2026, 1, 10), status="churned")
    ev(c, "started", utc(2026, 1, 10), 50)
    ev(c, "cancelled", utc(2026, 1, 20), 50)          # started and left in January: in neither count
    d = make_account("d", plan="pro", mrr=300, started_at=utc(2025, 1, 1))
    ev(d, "started", utc(2025, 1, 1), 300)
    ev(d, "cancelled", utc(2026, 2, 5), 300)          # cancels and reactivates in February
    ev(d, "reactivated", utc(2026, 2, 20), 300)
    # The mailbox's account for unknown senders is not a customer: never in a churn count.
    make_account("unassigned-senders", plan="free", mrr=0, started_at=utc(2025, 6, 1))
    e = make_account("e", plan="enterprise", mrr=500, started_at=utc(2025, 1, 1))
    ev(e, "started", utc(2025, 1, 1), 400)
    ev(e, "upgraded", utc(2026, 1, 10), 500)
    session.flush()


def test_monthly_logo_and_revenue_churn_by_hand(session, make_account):
    _churn_dataset(session, make_account)
    rows = measures.churn_by_month(session=session, start=JAN, end=APR)
    got = [(r["month"].month, r["active_at_start"], r["cancelled"], r["logo_churn"], r["mrr_at_start"],
            r["mrr_cancelled"], r["revenue_churn"]) for r in rows]
    assert got[0] == (1, 4, 1, 0.25, 1000.0, 200.0, 0.2)          # A B D E active; B leaves
    assert got[1][:3] == (2, 3, 1)                                   # A D E(upgraded); D cancels (and comes back)
    assert got[1][3] == pytest.approx(1 / 3) and got[1][4:6] == (900.0, 300.0)
    assert got[1][6] == pytest.approx(1 / 3)
    assert got[2] == (3, 3, 0, 0.0, 900.0, 0.0, 0.0)                 # D is active again at March's start
    one = measures.churn(session=session, start=JAN, end=FEB)
    assert (one["logo_churn"], one["revenue_churn"]) == (0.25, 0.2)


def test_churn_by_plan(session, make_account):
    _churn_dataset(session, make_account)
    rows = measures.churn_by_month(session=session, start=JAN, end=FEB, by_plan=True)
    got = {r["plan"]: (r["active_at_start"], r["cancelled"], r["logo_churn"]) for r in rows}
    assert got == {"enterprise": (1, 0, 0.0), "pro": (2, 0, 0.0), "starter": (1, 1, 1.0)}


def test_churn_without_accounts_is_none(session):
    r = measures.churn(session=session, start=JAN, end=FEB)
    assert (r["active_at_start"], r["logo_churn"], r["revenue_churn"]) == (0, None, None)


def test_bug_fix_time_median_and_p90(session, make_account, make_ticket):
    acc = make_account("acme")
    for hours in (2, 4, 10, 30):
        make_ticket(acc, created_at=JAN + timedelta(days=5), solved_at=JAN + timedelta(days=5, hours=hours))
    make_ticket(acc, category="question", created_at=JAN, solved_at=JAN + timedelta(hours=100))
    make_ticket(acc, status="open", created_at=JAN)
    make_ticket(acc, created_at=FEB, solved_at=FEB + timedelta(hours=1))
    jan = measures.bug_fix_time(session=session, start=JAN, end=FEB)
    assert (jan["bugs_fixed"], jan["median_hours"]) == (4, 7.0)      # (4 + 10) / 2
    assert jan["p90_hours"] == pytest.approx(24.0)                   # 10 + 0.7 * (30 - 10)
    months = measures.bug_fix_by_month(session=session, start=JAN, end=APR)
    assert [(r["month"].month, r["bugs_fixed"], r["median_hours"]) for r in months] == [
        (1, 4, 7.0), (2, 1, 1.0), (3, 0, None)]


def test_feedback_implemented_share(session, make_account):
    acc = make_account("acme")
    items = [_fb(session, acc, "rating", 3, JAN + timedelta(days=i)) for i in range(4)]
    shipped = RoadmapItem(title="Exports", status="shipped", shipped_at=FEB)
    planned = RoadmapItem(title="Dark mode", status="planned")
    session.add_all([shipped, planned])
    session.flush()
    session.add_all([RoadmapLink(roadmap_item_id=shipped.id, feedback_item_id=items[0].id),
                     RoadmapLink(roadmap_item_id=planned.id, feedback_item_id=items[1].id)])
    session.flush()
    assert measures.feedback_implemented(session=session, start=JAN, end=FEB, now=MAR)["share"] == 0.25
    # Before it shipped, nothing of January's feedback was implemented yet.
    assert measures.feedback_implemented(session=session, start=JAN, end=FEB, now=utc(2026, 1, 31))["share"] == 0.0
    months = measures.feedback_implemented_by_month(session=session, start=JAN, end=MAR, now=MAR)
    assert [(r["month"].month, r["items"], r["share"]) for r in months] == [(1, 4, 0.25), (2, 0, None)]
    shipped_rows = measures.features_shipped_by_month(session=session, start=JAN, end=MAR)
    assert [(r["month"].month, r["shipped"], r["feedback_items"]) for r in shipped_rows] == [(1, 0, 0), (2, 1, 1)]


def test_feedback_kpis_contract(session, make_account, make_ticket):
    _churn_dataset(session, make_account)
    acc = make_account("acme")
    _fb(session, acc, "nps", 10, JAN + timedelta(days=1))
    _fb(session, acc, "csat", 5, JAN + timedelta(days=1), ticket=make_ticket(acc))
    kpis = measures.feedback_kpis(session=session, start=JAN, end=FEB, now=MAR)
    assert set(kpis) >= {"nps", "nps_responses", "csat_share", "csat_average", "rating_average", "logo_churn",
                         "revenue_churn", "bug_fix_median_hours", "feedback_implemented_share"}
    assert kpis["nps"] == 100.0 and kpis["nps_responses"] == 1
    assert kpis["csat_share"] == 1.0 and kpis["rating_average"] is None
    # acme started 2025-01-01 with no events: five accounts active at January's start.
    assert kpis["logo_churn"] == 0.2 and kpis["bug_fix_median_hours"] is None
    assert kpis["feedback_implemented_share"] == 0.0
    empty = measures.feedback_kpis(session=session, start=utc(2020, 1, 1), end=utc(2020, 2, 1))
    assert empty["nps"] is None and empty["csat_share"] is None and empty["logo_churn"] is None


def test_monthly_churn_of_a_window_is_monthly(session, make_account):
    _churn_dataset(session, make_account)
    # By hand (see test_monthly_logo_and_revenue_churn_by_hand): January 1/4 (revenue 200/1000),
    # February 1/3 (300/900), March 0; October to December 2025: nobody left (A B D E active).
    q = measures.monthly_churn(session=session, start=JAN, end=APR)            # three complete months: their average
    assert q["months"] == ["2026-01", "2026-02", "2026-03"]
    assert q["logo_churn"] == pytest.approx((0.25 + 1 / 3 + 0) / 3)            # 0.1944, not quarterly 2/4 = 0.5
    assert q["revenue_churn"] == pytest.approx((0.2 + 1 / 3 + 0) / 3)
    assert (q["previous_logo_churn"], q["previous_revenue_churn"]) == (0.0, 0.0)  # Oct, Nov, Dec 2025
    feb = measures.monthly_churn(session=session, start=FEB, end=MAR)          # a calendar month: that month
    assert feb["months"] == ["2026-02"] and feb["logo_churn"] == pytest.approx(1 / 3)
    assert feb["previous_logo_churn"] == 0.25 and feb["previous_revenue_churn"] == 0.2
    # 30 days from 10 March hold no complete month: the latest complete one before the end, March.
    d30 = measures.monthly_churn(session=session, start=utc(2026, 3, 10), end=utc(2026, 4, 9))
    assert (d30["months"], d30["logo_churn"], d30["previous_logo_churn"]) == (["2026-03"], 0.0, pytest.approx(1 / 3))
    # 15 Jan to 20 Mar: only February is complete in it.
    mid = measures.monthly_churn(session=session, start=utc(2026, 1, 15), end=utc(2026, 3, 20))
    assert mid["months"] == ["2026-02"] and mid["logo_churn"] == pytest.approx(1 / 3)
    kpis = measures.feedback_kpis(session=session, start=JAN, end=APR, now=APR)
    assert kpis["logo_churn"] == pytest.approx(0.19444, abs=1e-4) and kpis["churn_months"] == q["months"]
    assert kpis["_notes"]["logo_churn"].startswith("average of 2026-01 to 2026-03")


def test_bug_fix_time_is_one_definition_deployed_fix_else_solved(session, make_account, make_ticket):
    from core.loop import kpis as loop_kpis
    from core.loop.models import TicketFix

    acc = make_account("acme")
    linked = make_ticket(acc, created_at=JAN + timedelta(days=2), solved_at=JAN + timedelta(days=2, hours=40))
    make_ticket(acc, created_at=JAN + timedelta(days=3), solved_at=JAN + timedelta(days=3, hours=10))
    never_live = make_ticket(acc, created_at=JAN + timedelta(days=4), solved_at=JAN + timedelta(days=4, hours=20))
    session.add_all([TicketFix(ticket_id=linked.id, release_item="v2.0.0", deployed_at=JAN + timedelta(days=2, hours=4)),
                     TicketFix(ticket_id=never_live.id, release_item="v2.1.0")])   # linked, not deployed yet
    # A bug reported in January whose fix went live on 3 February counts in February.
    late = make_ticket(acc, created_at=JAN + timedelta(days=30), solved_at=FEB + timedelta(days=5))
    session.add(TicketFix(ticket_id=late.id, release_item="v2.2.0", deployed_at=JAN + timedelta(days=33)))
    session.flush()
    jan = measures.bug_fix_time(session=session, start=JAN, end=FEB)
    assert (jan["bugs_fixed"], jan["median_hours"]) == (3, 10.0)                # 4 h (to the deploy), 10 h, 20 h
    assert jan["p90_hours"] == pytest.approx(18.0)                             # 10 + 0.8 * (20 - 10)
    months = measures.bug_fix_by_month(session=session, start=JAN, end=MAR)
    assert [(r["month"].month, r["bugs_fixed"], r["median_hours"]) for r in months] == [(1, 3, 10.0), (2, 1, 72.0)]
    assert loop_kpis.bug_fix_time(session=session, start=JAN, end=FEB) == jan    # the loop's name, the same function
    assert measures.feedback_kpis(session=session, start=JAN, end=FEB, now=MAR)["bug_fix_median_hours"] == 10.0
