"""Triage of alert intervals (actionable or noise, with a note) and alert accuracy = actionable / triaged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.audit.service import record
from core.auth.roles import Permission, require
from core.monitoring.history import AlertInterval, labels_key
from core.monitoring.models import AlertTriage, Verdict

MAX_NOTE = 2000


class TriageError(ValueError):
    """A triage that may not be stored as given."""


def triage_interval(*, session: Session, actor, alertname: str, labels: dict[str, str], starts_at: datetime,
                    verdict: Verdict | str, note: str = "", ends_at: datetime | None = None) -> AlertTriage:
    """Mark one firing interval actionable or noise (a second verdict replaces the first)."""
    require(actor, Permission.TRIAGE_ALERTS)
    try:
        verdict = Verdict(verdict)
    except ValueError:
        raise TriageError("the verdict must be 'actionable' or 'noise'") from None
    if not alertname:
        raise TriageError("the interval has no alert name")
    if starts_at.tzinfo is None:
        raise TriageError("the interval start must carry a time zone")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise TriageError(f"the note is too long ({len(note)} characters; {MAX_NOTE} at most)")
    key = labels_key({**labels, "alertname": alertname})
    row = session.scalar(select(AlertTriage).where(AlertTriage.alertname == alertname, AlertTriage.labels_key == key,
                                                   AlertTriage.starts_at == starts_at))
    before = None
    if row is None:
        row = AlertTriage(alertname=alertname, labels_key=key, labels=dict(labels), starts_at=starts_at)
        session.add(row)
    else:
        before = {"verdict": row.verdict, "note": row.note}
    row.ends_at = ends_at
    row.verdict = verdict.value
    row.note = note
    row.triaged_by_id = getattr(actor, "id", None)
    row.triaged_at = func.now()
    session.flush()
    record(session=session, actor=actor, action="alert.triage", entity="alert_triage", entity_id=row.id,
           details={"alertname": alertname, "starts_at": starts_at, "verdict": verdict, "note": note,
                    "before": before})
    session.refresh(row)
    return row


def triage_interval_of(*, session: Session, actor, interval: AlertInterval, verdict: Verdict | str,
                       note: str = "") -> AlertTriage:
    """triage_interval for an AlertInterval from history."""
    return triage_interval(session=session, actor=actor, alertname=interval.alertname, labels=interval.labels,
                           starts_at=interval.starts_at, ends_at=interval.ends_at, verdict=verdict, note=note)


def verdicts(*, session: Session, start: datetime, end: datetime) -> dict[tuple[str, str, datetime], AlertTriage]:
    """Triage rows of intervals starting in [start, end], keyed by (alertname, labels_key, starts_at)."""
    rows = session.scalars(select(AlertTriage).where(AlertTriage.starts_at >= start, AlertTriage.starts_at <= end))
    return {(r.alertname, r.labels_key, r.starts_at): r for r in rows}


def accuracy(*, session: Session, start: datetime | None = None, end: datetime | None = None) -> dict:
    """Alert accuracy over intervals starting in [start, end]: actionable / triaged (None when nothing is triaged)."""
    q = select(func.count().label("triaged"),
               func.coalesce(func.sum(case((AlertTriage.verdict == Verdict.ACTIONABLE.value, 1), else_=0)), 0)
               .label("actionable"))
    if start is not None:
        q = q.where(AlertTriage.starts_at >= start)
    if end is not None:
        q = q.where(AlertTriage.starts_at <= end)
    row = session.execute(q).one()
    triaged, actionable = int(row.triaged), int(row.actionable)
    return {"accuracy": (actionable / triaged) if triaged else None, "actionable": actionable, "triaged": triaged}


def by_alert(*, session: Session, start: datetime | None = None, end: datetime | None = None) -> list[dict]:
    """Accuracy per alert name (which rules are noisy), most triaged first."""
    actionable = func.sum(case((AlertTriage.verdict == Verdict.ACTIONABLE.value, 1), else_=0))
    q = select(AlertTriage.alertname, func.count().label("triaged"), actionable.label("actionable")).group_by(
        AlertTriage.alertname).order_by(func.count().desc(), AlertTriage.alertname)
    if start is not None:
        q = q.where(AlertTriage.starts_at >= start)
    if end is not None:
        q = q.where(AlertTriage.starts_at <= end)
    return [{"alertname": r.alertname, "triaged": r.triaged, "actionable": int(r.actionable),
             "accuracy": int(r.actionable) / r.triaged} for r in session.execute(q)]
