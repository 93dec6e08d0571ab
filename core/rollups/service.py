"""Read and refresh roll-ups: a stored result is used only when the fingerprint of its inputs still matches."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta

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
    """A fingerprint of the rows comment_themes reads for [start, end) without filters."""
    return str(session.scalar(text(THEMES_FINGERPRINT_SQL), {"start": start, "end": end}))


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
