"""Read and refresh roll-ups: fingerprinted results (served while their inputs match) and page snapshots."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.rollups.models import PageRollup

# Feedback comment themes: identical input rows give identical themes (the grouping is seeded), so a stored
# result is served while the period's feedback items (count, ids, comments, scores, kinds) are unchanged.
THEMES_FINGERPRINT_SQL = """
SELECT count(*) || ':' || coalesce(sum(f.id), 0) || ':' || coalesce(sum(hashtext(f.comment)::bigint), 0)
       || ':' || coalesce(sum(f.score), 0) || ':' || coalesce(sum(hashtext(f.kind)::bigint), 0)
       || ':' || coalesce(max(f.created_at)::text, '')
  FROM feedback_items f
 WHERE f.created_at >= :start AND f.created_at < :end AND char_length(btrim(f.comment)) > 0
"""


def month_period(months: int, now: datetime) -> tuple[datetime, datetime]:
    """The feedback page's period (core.ui.feedback.period): whole UTC months, the current one included."""
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for _ in range(months - 1):
        start = (start - timedelta(days=1)).replace(day=1)
    end = (now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + timedelta(days=32)).replace(day=1)
    return start, end


def themes_key(start: datetime, end: datetime) -> str:
    """The roll-up key of the unfiltered themes of [start, end)."""
    return f"feedback_themes:{start.isoformat()}:{end.isoformat()}"


def themes_fingerprint(*, session: Session, start: datetime, end: datetime) -> str:
    """A fingerprint of the rows comment_themes reads for [start, end) without filters, and of the method."""
    from core.feedback.themes import METHOD_VERSION

    return f"v{METHOD_VERSION}:" + str(session.scalar(text(THEMES_FINGERPRINT_SQL), {"start": start, "end": end}))


def cached(*, session: Session, key: str, fingerprint: str) -> object | None:
    """The stored payload for key when it was computed from inputs with this fingerprint, else None."""
    row = session.get(PageRollup, key)
    if row is None or row.fingerprint != fingerprint:
        return None
    return json.loads(row.payload)


def store(*, session: Session, key: str, fingerprint: str, payload: object, seconds: float | None = None) -> None:
    """Insert or replace the roll-up for key."""
    values = dict(key=key, fingerprint=fingerprint, payload=json.dumps(payload), seconds=seconds)
    stmt = insert(PageRollup).values(**values)
    session.execute(stmt.on_conflict_do_update(
        index_elements=[PageRollup.key],
        set_=dict(fingerprint=stmt.excluded.fingerprint, payload=stmt.excluded.payload,
                  seconds=stmt.excluded.seconds, refreshed_at=text("now()"))))
    session.flush()


def feedback_themes(*, session: Session, start: datetime, end: datetime,
                    compute: Callable[[], list[dict]] | None = None) -> list[dict]:
    """Unfiltered comment themes of [start, end): the stored roll-up when current, else computed now."""
    from core.feedback.themes import comment_themes

    got = cached(session=session, key=themes_key(start, end),
                 fingerprint=themes_fingerprint(session=session, start=start, end=end))
    if got is not None:
        return got
    return compute() if compute else comment_themes(session=session, start=start, end=end, filters={})


def refresh_feedback_themes(*, session: Session, now: datetime, months: tuple[int, ...] = (3, 6, 12)) -> int:
    """Recompute the themes roll-ups of the feedback page's periods whose inputs changed; returns how many."""
    from core.feedback.themes import comment_themes

    done = 0
    for m in months:
        start, end = month_period(m, now)
        key, fp = themes_key(start, end), themes_fingerprint(session=session, start=start, end=end)
        if cached(session=session, key=key, fingerprint=fp) is not None:
            continue
        t0 = time.perf_counter()
        payload = comment_themes(session=session, start=start, end=end, filters={"kind": (), "plan": ()})
        store(session=session, key=key, fingerprint=fp, payload=payload, seconds=time.perf_counter() - t0)
        done += 1
    return done


# Page snapshots: a page loader's result for its default arguments, computed by the worker every minute and
# served while younger than the loader's own cache TTL, so a cold page cache reads one row instead of scanning
# a year of tickets (the freshness contract is the one st.cache_data already gives the page).
def _encode(value):
    if isinstance(value, datetime):
        return {"__dt__": value.isoformat()}
    if isinstance(value, date):
        return {"__date__": value.isoformat()}
    if isinstance(value, Decimal):
        return {"__dec__": str(value)}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def _decode(value):
    if isinstance(value, dict):
        if len(value) == 1:
            (k, v), = value.items()
            if k == "__dt__":
                return datetime.fromisoformat(v)
            if k == "__date__":
                return date.fromisoformat(v)
            if k == "__dec__":
                return Decimal(v)
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def snapshot(*, session: Session, key: str, max_age_seconds: float) -> object | None:
    """The stored snapshot for key when refreshed within max_age_seconds (database clock), else None."""
    row = session.execute(text("SELECT payload FROM page_rollups WHERE key = :k AND fingerprint = 'snapshot' "
                               "AND refreshed_at >= now() - make_interval(secs => :age)"),
                          {"k": key, "age": max_age_seconds}).first()
    return None if row is None else _decode(json.loads(row.payload))


def put_snapshot(*, session: Session, key: str, payload: object, seconds: float | None = None) -> None:
    """Store payload as the current snapshot for key."""
    stmt = insert(PageRollup).values(key=key, fingerprint="snapshot", payload=json.dumps(_encode(payload)),
                                     seconds=seconds)
    session.execute(stmt.on_conflict_do_update(
        index_elements=[PageRollup.key],
        set_=dict(fingerprint=stmt.excluded.fingerprint, payload=stmt.excluded.payload,
                  seconds=stmt.excluded.seconds, refreshed_at=text("now()"))))
    session.flush()


def overview_scorecard(session: Session, now: datetime, days: int = 30):
    from core.overview.kpis import scorecard

    return scorecard(session=session, days=days, now=now)


def overview_daily(session: Session, now: datetime, days: int = 30):
    from core.overview.kpis import daily_tickets

    return daily_tickets(session=session, days=days)


def sla_report(session: Session, now: datetime, by: str = "week", days: int = 90, tz: str | None = None):
    from core.config import get_settings
    from core.sla import reporting

    tz = tz or get_settings().business_timezone
    return {"compliance": reporting.compliance(session=session, by=by, days=days, tz=tz),
            "percentiles": reporting.percentiles(session=session, by=by, days=days, tz=tz),
            "overall": reporting.overall(session=session, days=days),
            "fr_dist": reporting.distribution(session=session, target="first_response", days=days),
            "res_dist": reporting.distribution(session=session, target="resolution", days=days)}


def feedback_kpis(session: Session, now: datetime, months: int = 6):
    from core.feedback.measures import feedback_kpis as compute

    start, end = month_period(months, now)
    out = compute(session=session, start=start, end=min(end, now))
    out.pop("_reasons", None)
    return out


def feedback_monthly(session: Session, now: datetime, months: int = 6):
    from core.feedback import measures as m

    start, end = month_period(months, now)
    return {
        "nps": m.nps_by_month(session=session, start=start, end=end),
        "nps_plan": m.nps_by_month(session=session, start=start, end=end, by_plan=True),
        "csat": m.csat_by_month(session=session, start=start, end=end),
        "csat_plan": m.csat_by_month(session=session, start=start, end=end, by_plan=True),
        "churn": m.churn_by_month(session=session, start=start, end=end),
        "churn_plan": m.churn_by_month(session=session, start=start, end=end, by_plan=True),
        "implemented": m.feedback_implemented_by_month(session=session, start=start, end=end),
        "shipped": m.features_shipped_by_month(session=session, start=start, end=end),
        "bugfix": m.bug_fix_by_month(session=session, start=start, end=end),
    }


def tickets_accuracy(session: Session, now: datetime):
    from core.tickets.queue import categoriser_accuracy

    return categoriser_accuracy(session=session)


def snapshot_key(name: str, *args) -> str:
    """The key of a page snapshot: the loader's name and its arguments."""
    return ":".join([name, *(a.isoformat() if isinstance(a, datetime) else str(a) for a in args)])


def default_snapshots(now: datetime) -> list[tuple[str, Callable]]:
    """(key, compute(session, now)) for each page's default view."""
    from core.config import get_settings

    start, end = month_period(6, now)
    tz = get_settings().business_timezone
    return [
        (snapshot_key("overview_scorecard", 30), overview_scorecard),
        (snapshot_key("overview_daily", 30), overview_daily),
        (snapshot_key("sla_report", "week", 90, tz), sla_report),
        (snapshot_key("feedback_kpis", start, end), feedback_kpis),
        (snapshot_key("feedback_monthly", start, end), feedback_monthly),
        (snapshot_key("tickets_accuracy"), tickets_accuracy),
    ]


def refresh_snapshots(*, session: Session, now: datetime) -> int:
    """Recompute every default page snapshot; returns how many."""
    n = 0
    for key, compute in default_snapshots(now):
        t0 = time.perf_counter()
        with session.begin_nested():
            payload = compute(session, now)
        put_snapshot(session=session, key=key, payload=payload, seconds=time.perf_counter() - t0)
        n += 1
    return n
