"""Appending audit rows inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.audit.models import AuditLog


def record(*, session: Session, actor, action: str, entity: str, entity_id: Any = None, details: dict | None = None) -> AuditLog:
    """Append one audit row for a change made by actor (a User, or a string for system jobs)."""
    row = AuditLog(
        actor_user_id=getattr(actor, "id", None),
        actor=getattr(actor, "username", None) or str(actor),
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        details=_jsonable(details or {}),
    )
    session.add(row)
    session.flush()
    return row


def _jsonable(value):
    from datetime import date, datetime
    from decimal import Decimal
    from enum import Enum

    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value
