"""Silence changes made by people: permission check, the Alertmanager call and an audit row (who silenced what)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from core.audit.service import record
from core.auth.roles import Permission, require
from core.monitoring.alertmanager import Alertmanager, Matcher, build_silence


def create_silence(*, session: Session, actor, matchers: list[Matcher] | str, comment: str,
                   duration: timedelta | None = None, starts_at=None, ends_at=None,
                   alertmanager: Alertmanager | None = None) -> str:
    """Validate and create a silence in Alertmanager; return its id (bad input raises SilenceError, nothing sent)."""
    require(actor, Permission.MANAGE_SILENCES)
    req = build_silence(matchers=matchers, created_by=actor.username, comment=comment, duration=duration,
                        starts_at=starts_at, ends_at=ends_at)
    silence_id = (alertmanager or Alertmanager()).create_silence(req)
    record(session=session, actor=actor, action="silence.create", entity="silence", entity_id=silence_id,
           details={"matchers": [str(m) for m in req.matchers], "starts_at": req.starts_at, "ends_at": req.ends_at,
                    "comment": req.comment})
    return silence_id


def expire_silence(*, session: Session, actor, silence_id: str, alertmanager: Alertmanager | None = None) -> None:
    """Expire a silence now."""
    require(actor, Permission.MANAGE_SILENCES)
    (alertmanager or Alertmanager()).expire_silence(silence_id)
    record(session=session, actor=actor, action="silence.expire", entity="silence", entity_id=silence_id)
