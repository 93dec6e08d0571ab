"""The feedback and customer measures, each computed in SQL exactly as the README defines them.

Periods are half-open [start, end) in UTC; months are calendar months in UTC. Shares are fractions
between 0 and 1; NPS is a score from -100 to 100; None (SQL NULL) means there is no data.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import text
from sqlalchemy.orm import Session

MIN_NPS_RESPONSES = 30

# Subscription history: the events table, plus a synthetic started/cancelled pair (from the accounts
# table) for accounts that have no events at all, so accounts made before events existed still count.
# `seq` orders events that share a timestamp (a synthetic start before anything else). The mailbox's
# intake account for unknown senders (core.channels.service.INTAKE_ACCOUNT_KEY) is not a customer.
EVENTS_CTE = """
ev AS (
    SELECT e.account_id, e.type, e.at, e.mrr, e.id AS seq FROM subscription_events e
    UNION ALL
    SELECT a.id, 'started', a.started_at, a.mrr, 0 FROM accounts a
     WHERE NOT EXISTS (SELECT 1 FROM subscription_events x WHERE x.account_id = a.id)
       AND a.key <> 'unassigned-senders'
    UNION ALL
    SELECT a.id, 'cancelled', a.cancelled_at, a.mrr, 1 FROM accounts a
     WHERE a.cancelled_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM subscription_events x WHERE x.account_id = a.id)
       AND a.key <> 'unassigned-senders'
)"""

MONTHS_CTE = """
months AS (
    SELECT m AT TIME ZONE 'UTC' AS m_start, (m + interval '1 month') AT TIME ZONE 'UTC' AS m_end
      FROM generate_series(date_trunc('month', CAST(:start AS timestamptz) AT TIME ZONE 'UTC'),
                           (CAST(:end AS timestamptz) - interval '1 microsecond') AT TIME ZONE 'UTC',
                           interval '1 month') AS m
)"""

def _utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _f(value):
    return None if value is None else float(value)


def _rows(session: Session, sql: str, **params) -> list[dict]:
    return [dict(r._mapping) for r in session.execute(text(sql), params)]


def _period(start: datetime, end: datetime) -> dict:
    return {"start": _utc(start), "end": _utc(end)}


# --- NPS ----------------------------------------------------------------------------------------------

NPS_SELECT = """
    count(f.id) AS responses,
    count(f.id) FILTER (WHERE f.score >= 9) AS promoters,
    count(f.id) FILTER (WHERE f.score <= 6) AS detractors,
    CASE WHEN count(f.id) > 0
         THEN round(100.0 * (count(f.id) FILTER (WHERE f.score >= 9) - count(f.id) FILTER (WHERE f.score <= 6)) / count(f.id), 1)
    END AS nps,
    count(f.id) < :min_n AS too_few"""


def nps(*, session: Session, start: datetime, end: datetime) -> dict:
    """NPS = % promoters (9-10) - % detractors (0-6) over the period's responses, with the count and a too-few flag."""
    row = _rows(session, f"SELECT {NPS_SELECT} FROM feedback_items f WHERE f.kind = 'nps' "
                         "AND f.created_at >= :start AND f.created_at < :end",
                min_n=MIN_NPS_RESPONSES, **_period(start, end))[0]
    row["nps"] = _f(row["nps"])
    return row


def nps_by_month(*, session: Session, start: datetime, end: datetime, by_plan: bool = False) -> list[dict]:
    """NPS per calendar month (and per account plan when by_plan), months without responses included."""
    rows = _monthly(session, "nps", NPS_SELECT, ("responses", "promoters", "detractors", "nps", "too_few"),
                    start, end, by_plan, min_n=MIN_NPS_RESPONSES)
    for r in rows:
        r["nps"] = _f(r["nps"])
        if r["responses"] is None:
            r.update(responses=0, promoters=0, detractors=0, too_few=True)
    return rows


# One scan of the period's items grouped by month (index-friendly), then joined to the list of months.
MONTH_OF_F = "date_trunc('month', f.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"


def _monthly(session: Session, kind: str, select: str, columns: tuple[str, ...], start: datetime, end: datetime,
             by_plan: bool, **params) -> list[dict]:
    plan_col, plan_join, plan_group = ("a.plan,", "JOIN accounts a ON a.id = f.account_id", ", a.plan") \
        if by_plan else ("", "", "")
    sql = f"""WITH {MONTHS_CTE},
        agg AS (SELECT {MONTH_OF_F} AS month, {plan_col} {select}
                  FROM feedback_items f {plan_join}
                 WHERE f.kind = :kind AND f.created_at >= :start AND f.created_at < :end
                 GROUP BY 1 {plan_group})
        SELECT m.m_start AS month, {"agg.plan," if by_plan else ""} {", ".join("agg." + c for c in columns)}
          FROM months m {"JOIN" if by_plan else "LEFT JOIN"} agg ON agg.month = m.m_start
         ORDER BY m.m_start {", agg.plan" if by_plan else ""}"""
    return _rows(session, sql, kind=kind, **params, **_period(start, end))


# --- CSAT and ratings ---------------------------------------------------------------------------------

CSAT_SELECT = """
    count(f.id) AS responses,
    avg((f.score >= 4)::int) AS csat_share,
    avg(f.score) AS csat_average"""


def csat(*, session: Session, start: datetime, end: datetime) -> dict:
    """CSAT = share of the period's csat ratings that are 4 or 5, and their average."""
    row = _rows(session, f"SELECT {CSAT_SELECT} FROM feedback_items f WHERE f.kind = 'csat' "
                         "AND f.created_at >= :start AND f.created_at < :end", **_period(start, end))[0]
    return {"responses": row["responses"], "csat_share": _f(row["csat_share"]), "csat_average": _f(row["csat_average"])}


def csat_by_month(*, session: Session, start: datetime, end: datetime, by_plan: bool = False) -> list[dict]:
    """CSAT share and average per calendar month (and per plan when by_plan)."""
    rows = _monthly(session, "csat", CSAT_SELECT, ("responses", "csat_share", "csat_average"), start, end, by_plan)
    for r in rows:
        r["csat_share"], r["csat_average"] = _f(r["csat_share"]), _f(r["csat_average"])
        if r["responses"] is None:
            r["responses"] = 0
    return rows


def rating_average(*, session: Session, start: datetime, end: datetime) -> dict:
    """Average of the period's portal star ratings (1-5), with the count."""
    row = _rows(session, "SELECT count(*) AS responses, avg(score) AS rating_average FROM feedback_items "
                         "WHERE kind = 'rating' AND created_at >= :start AND created_at < :end", **_period(start, end))[0]
    return {"responses": row["responses"], "rating_average": _f(row["rating_average"])}


# --- churn --------------------------------------------------------------------------------------------

# For each period (month) and account: the account's state just before the period starts (its last
# event before m_start). Active at the start = that last event is not a cancellation; accounts that
# started during the period have no such event and so are not in the denominator. The numerator is
# those start-active accounts with at least one cancellation inside the period; an account that
# cancels and reactivates within the month counts as cancelled in that month (it did cancel) and is
# active again at the start of the next. Revenue churn weighs the same accounts by their MRR at the
# start of the period.
CHURN_BODY = """
    SELECT b.m_start AS month, {plan_col}
           count(*) AS active_at_start,
           count(*) FILTER (WHERE c.account_id IS NOT NULL) AS cancelled,
           CASE WHEN count(*) > 0 THEN count(*) FILTER (WHERE c.account_id IS NOT NULL)::numeric / count(*) END AS logo_churn,
           coalesce(sum(b.mrr), 0) AS mrr_at_start,
           coalesce(sum(b.mrr) FILTER (WHERE c.account_id IS NOT NULL), 0) AS mrr_cancelled,
           CASE WHEN sum(b.mrr) > 0
                THEN coalesce(sum(b.mrr) FILTER (WHERE c.account_id IS NOT NULL), 0) / sum(b.mrr) END AS revenue_churn
      FROM base b
      LEFT JOIN cancels c ON c.m_start = b.m_start AND c.account_id = b.account_id
      {plan_join}
     GROUP BY b.m_start {plan_group}"""

# Each event's state holds from its time until the account's next event; the state at a period's start
# is the one whose interval contains the instant just before it (valid_from < m_start <= valid_to).
STATE_CTES = """
iv AS (
    SELECT account_id, type, mrr, at AS valid_from,
           lead(at) OVER (PARTITION BY account_id ORDER BY at, seq) AS valid_to
      FROM ev
),
base AS (
    SELECT m.m_start, iv.account_id, iv.mrr
      FROM months m JOIN iv ON iv.valid_from < m.m_start AND (iv.valid_to IS NULL OR iv.valid_to >= m.m_start)
     WHERE iv.type <> 'cancelled'
),
cancels AS (
    SELECT DISTINCT m.m_start, ev.account_id
      FROM months m JOIN ev ON ev.type = 'cancelled' AND ev.at >= m.m_start AND ev.at < m.m_end
)"""


def _churn_rows(session: Session, months_sql: str, params: dict, by_plan: bool) -> list[dict]:
    plan_col, plan_group = ("a.plan,", ", a.plan") if by_plan else ("", "")
    plan_join = "JOIN accounts a ON a.id = b.account_id" if by_plan else ""
    body = CHURN_BODY.format(plan_col=plan_col, plan_group=plan_group, plan_join=plan_join)
    sql = f"""WITH {EVENTS_CTE}, {months_sql}, {STATE_CTES},
        churn AS ({body})
        SELECT m.m_start AS month, {"c.plan," if by_plan else ""}
               coalesce(c.active_at_start, 0) AS active_at_start, coalesce(c.cancelled, 0) AS cancelled,
               c.logo_churn, coalesce(c.mrr_at_start, 0) AS mrr_at_start,
               coalesce(c.mrr_cancelled, 0) AS mrr_cancelled, c.revenue_churn
          FROM months m {"JOIN" if by_plan else "LEFT JOIN"} churn c ON c.month = m.m_start
         ORDER BY m.m_start {", c.plan" if by_plan else ""}"""
    rows = _rows(session, sql, **params)
    for r in rows:
        for k in ("logo_churn", "revenue_churn", "mrr_at_start", "mrr_cancelled"):
            r[k] = _f(r[k])
    return rows


def churn_by_month(*, session: Session, start: datetime, end: datetime, by_plan: bool = False) -> list[dict]:
    """Monthly logo and revenue churn for each calendar month touching [start, end) (and per plan when by_plan)."""
    return _churn_rows(session, MONTHS_CTE, _period(start, end), by_plan)


def churn(*, session: Session, start: datetime, end: datetime) -> dict:
    """Logo and revenue churn over one period: cancelled during it / active at its start (monthly for a month)."""
    months = "months AS (SELECT CAST(:start AS timestamptz) AS m_start, CAST(:end AS timestamptz) AS m_end)"
    row = _churn_rows(session, months, _period(start, end), False)[0]
    row.pop("month", None)
    return row


def _month_floor(dt: datetime) -> datetime:
    dt = _utc(dt).astimezone(timezone.utc)
    return dt.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _add_months(month: datetime, n: int) -> datetime:
    total = month.year * 12 + month.month - 1 + n
    return month.replace(year=total // 12, month=total % 12 + 1)


def churn_months(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """[first, last) of the calendar months monthly churn is reported for over the window [start, end):
    the complete months inside it, or, when it holds none, the latest complete month before its end."""
    first = _month_floor(start)
    if first < _utc(start):
        first = _add_months(first, 1)
    last = _month_floor(end)
    if first >= last:
        first = _add_months(last, -1)
    return first, last


def monthly_churn(*, session: Session, start: datetime, end: datetime) -> dict:
    """Monthly logo and revenue churn for the window: the average of its complete calendar months (the latest
    complete month when it holds none), with the months used and the same number of months just before."""
    first, last = churn_months(start, end)
    n = (last.year - first.year) * 12 + last.month - first.month
    rows = churn_by_month(session=session, start=_add_months(first, -n), end=last)

    def avg(rs, key):
        got = [r[key] for r in rs if r[key] is not None]
        return sum(got) / len(got) if got else None

    before, now = rows[:n], rows[n:]
    return {"logo_churn": avg(now, "logo_churn"), "revenue_churn": avg(now, "revenue_churn"),
            "months": [r["month"].strftime("%Y-%m") for r in now],
            "active_at_start": sum(r["active_at_start"] for r in now),
            "previous_logo_churn": avg(before, "logo_churn"), "previous_revenue_churn": avg(before, "revenue_churn")}


# --- bug fix time -------------------------------------------------------------------------------------

# Bug fix time, one definition for the overview, `metrics --json` and the Feedback page: from a bug
# ticket's creation to its first deployed fix where a fix is linked (core.loop), else to solved; counted
# in the period (month) the fix happened. Written to read only the period: bugs whose first deployed fix
# falls in it, plus bugs without a deployed fix solved in it (the solved_at index), rather than every
# solved bug of all time (bench pages: seconds at a million tickets).
BUG_FIXED_CTE = """
    fix AS (
        SELECT ticket_id, min(deployed_at) AS deployed_at FROM ticket_fixes
         WHERE deployed_at IS NOT NULL GROUP BY ticket_id),
    fixed AS (
        SELECT t.created_at, fx.deployed_at AS fixed_at
          FROM fix fx JOIN tickets t ON t.id = fx.ticket_id
         WHERE t.category = 'bug' AND t.solved_at IS NOT NULL AND fx.deployed_at >= :start AND fx.deployed_at < :end
        UNION ALL
        SELECT t.created_at, t.solved_at
          FROM tickets t
         WHERE t.category = 'bug' AND t.solved_at >= :start AND t.solved_at < :end
           AND NOT EXISTS (SELECT 1 FROM ticket_fixes f WHERE f.ticket_id = t.id AND f.deployed_at IS NOT NULL))"""

BUG_SELECT = """
    count(x.fixed_at) AS bugs_fixed,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM x.fixed_at - x.created_at) / 3600.0) AS median_hours,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM x.fixed_at - x.created_at) / 3600.0) AS p90_hours"""


def bug_fix_time(*, session: Session, start: datetime, end: datetime) -> dict:
    """Bug fix time in hours (creation to the deployed fix where one is linked, else to solved), median and
    p90, over the bugs fixed in the period."""
    row = _rows(session, f"WITH {BUG_FIXED_CTE} SELECT {BUG_SELECT} FROM fixed x", **_period(start, end))[0]
    return {"bugs_fixed": row["bugs_fixed"], "median_hours": _f(row["median_hours"]), "p90_hours": _f(row["p90_hours"])}


def bug_fix_by_month(*, session: Session, start: datetime, end: datetime) -> list[dict]:
    """Bug fix time median and p90 (hours) per calendar month the fix happened in (same definition)."""
    sql = f"""WITH {MONTHS_CTE}, {BUG_FIXED_CTE}
        SELECT m.m_start AS month, {BUG_SELECT}
          FROM months m LEFT JOIN fixed x ON x.fixed_at >= m.m_start AND x.fixed_at < m.m_end
         GROUP BY m.m_start ORDER BY m.m_start"""
    rows = _rows(session, sql, **_period(start, end))
    for r in rows:
        r["median_hours"], r["p90_hours"] = _f(r["median_hours"]), _f(r["p90_hours"])
    return rows


# --- feedback implemented -----------------------------------------------------------------------------

# Feedback items linked to a roadmap item shipped by :now, computed once and hash-joined.
IMPLEMENTED_CTE = """
impl AS (
    SELECT DISTINCT l.feedback_item_id
      FROM roadmap_links l JOIN roadmap_items r ON r.id = l.roadmap_item_id
     WHERE l.feedback_item_id IS NOT NULL AND r.status = 'shipped' AND r.shipped_at <= :now
)"""


def feedback_implemented(*, session: Session, start: datetime, end: datetime, now: datetime | None = None) -> dict:
    """Share of the period's feedback items linked to a roadmap item shipped at any time up to now."""
    now = _utc(now or datetime.now(timezone.utc))
    row = _rows(session, f"""WITH {IMPLEMENTED_CTE}
        SELECT count(*) AS items, count(i.feedback_item_id) AS implemented,
               CASE WHEN count(*) > 0 THEN count(i.feedback_item_id)::numeric / count(*) END AS share
          FROM feedback_items f LEFT JOIN impl i ON i.feedback_item_id = f.id
         WHERE f.created_at >= :start AND f.created_at < :end""", now=now, **_period(start, end))[0]
    row["share"] = _f(row["share"])
    return row


def feedback_implemented_by_month(*, session: Session, start: datetime, end: datetime,
                                  now: datetime | None = None) -> list[dict]:
    """The feedback-implemented share per calendar month the feedback was given in."""
    now = _utc(now or datetime.now(timezone.utc))
    sql = f"""WITH {MONTHS_CTE}, {IMPLEMENTED_CTE},
        agg AS (SELECT {MONTH_OF_F} AS month, count(*) AS items, count(i.feedback_item_id) AS implemented
                  FROM feedback_items f LEFT JOIN impl i ON i.feedback_item_id = f.id
                 WHERE f.created_at >= :start AND f.created_at < :end
                 GROUP BY 1)
        SELECT m.m_start AS month, coalesce(agg.items, 0) AS items, coalesce(agg.implemented, 0) AS implemented,
               CASE WHEN agg.items > 0 THEN agg.implemented::numeric / agg.items END AS share
          FROM months m LEFT JOIN agg ON agg.month = m.m_start
         ORDER BY m.m_start"""
    rows = _rows(session, sql, now=now, **_period(start, end))
    for r in rows:
        r["share"] = _f(r["share"])
    return rows


def features_shipped_by_month(*, session: Session, start: datetime, end: datetime) -> list[dict]:
    """Roadmap items shipped per calendar month, with the feedback items and tickets linked to them."""
    sql = f"""WITH {MONTHS_CTE}
        SELECT m.m_start AS month, count(r.id) AS shipped,
               coalesce(sum((SELECT count(*) FROM roadmap_links l WHERE l.roadmap_item_id = r.id AND l.feedback_item_id IS NOT NULL)), 0) AS feedback_items,
               coalesce(sum((SELECT count(*) FROM roadmap_links l WHERE l.roadmap_item_id = r.id AND l.ticket_id IS NOT NULL)), 0) AS tickets
          FROM months m
          LEFT JOIN roadmap_items r ON r.status = 'shipped' AND r.shipped_at >= m.m_start AND r.shipped_at < m.m_end
               AND r.shipped_at >= :start AND r.shipped_at < :end
         GROUP BY m.m_start ORDER BY m.m_start"""
    return _rows(session, sql, **_period(start, end))


# --- follow-ups ---------------------------------------------------------------------------------------

def followup_stats(*, session: Session, start: datetime, end: datetime) -> dict:
    """Detractor follow-ups opened in the period: open, done, and median hours to done."""
    row = _rows(session, """SELECT count(*) AS opened, count(*) FILTER (WHERE status = 'open') AS open,
                                   count(*) FILTER (WHERE status = 'done') AS done,
                                   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM done_at - opened_at) / 3600.0)
                                       FILTER (WHERE status = 'done') AS median_hours_to_done
                              FROM detractor_followups WHERE opened_at >= :start AND opened_at < :end""",
                **_period(start, end))[0]
    row["median_hours_to_done"] = _f(row["median_hours_to_done"])
    return row


# --- the overview contract ----------------------------------------------------------------------------

def feedback_kpis(*, session: Session, start: datetime, end: datetime, now: datetime | None = None) -> dict:
    """The feedback KPIs of the overview and `python -m core metrics --json` for [start, end).

    Churn is monthly whatever the window (see monthly_churn); its trend ("_previous") is the months just
    before. "_notes" are short lines the overview shows under a tile (the churn months, the NPS count)."""
    n = nps(session=session, start=start, end=end)
    c = csat(session=session, start=start, end=end)
    ch = monthly_churn(session=session, start=start, end=end)
    months = ch["months"][0] + (f" to {ch['months'][-1]}" if len(ch["months"]) > 1 else "")
    reasons = {}
    churn_note = f"average of {months}" if len(ch["months"]) > 1 else f"month {months}"
    if ch["revenue_churn"] is not None:
        churn_note += f" · revenue churn {ch['revenue_churn'] * 100:.1f}%"
    too_few = f" · too few to trust (n<{MIN_NPS_RESPONSES})" if n["too_few"] and n["responses"] else ""
    count = f"{n['responses']} response" + ("" if n["responses"] == 1 else "s")
    notes = {"nps": count + too_few, "logo_churn": churn_note}
    if n["responses"] == 0:
        reasons["nps"] = "no NPS responses in this period"
    elif n["too_few"]:
        reasons["nps"] = f"only {n['responses']} NPS responses: too few to trust (under {MIN_NPS_RESPONSES})"
    if c["responses"] == 0:
        reasons["csat_average"] = reasons["csat_share"] = "no CSAT ratings in this period"
    if ch["logo_churn"] is None:
        reasons["logo_churn"] = reasons["revenue_churn"] = f"no accounts were active at the start of {months}"
    bugs = bug_fix_time(session=session, start=start, end=end)
    if bugs["bugs_fixed"] == 0:
        reasons["bug_fix_median_hours"] = "no bug tickets fixed in this period"
    implemented = feedback_implemented(session=session, start=start, end=end, now=now)
    if implemented["items"] == 0:
        reasons["feedback_implemented_share"] = "no feedback items in this period"
    return {
        "_reasons": reasons,
        "_notes": notes,
        "_previous": {"logo_churn": ch["previous_logo_churn"], "revenue_churn": ch["previous_revenue_churn"]},
        "nps": n["nps"],
        "nps_responses": n["responses"],
        "nps_too_few": n["too_few"],
        "csat_share": c["csat_share"],
        "csat_average": c["csat_average"],
        "rating_average": rating_average(session=session, start=start, end=end)["rating_average"],
        "logo_churn": ch["logo_churn"],
        "revenue_churn": ch["revenue_churn"],
        "churn_months": ch["months"],
        "bug_fix_median_hours": bugs["median_hours"],
        "bug_fix_p90_hours": bugs["p90_hours"],
        "feedback_implemented_share": implemented["share"],
    }
