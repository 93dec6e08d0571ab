"""Team assignment: the least-loaded available agent of a team, round robin on ties."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.auth.models import Team, User

# Load = open tickets weighted by priority (high 3, medium 2, low 1).
_PICK = text("""
    SELECT u.id
    FROM users u
    LEFT JOIN tickets t ON t.assignee_id = u.id AND t.status IN ('new','open','pending','on_hold')
    WHERE u.team_id = :team_id AND u.active AND NOT u.away AND u.role = 'agent'
    GROUP BY u.id
    HAVING u.capacity IS NULL OR count(t.id) < u.capacity
    ORDER BY coalesce(sum(CASE t.priority WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 END), 0),
             u.last_assigned_at NULLS FIRST, u.id
    LIMIT 1
""")


def team_id_for(*, session: Session, team_key: str) -> int | None:
    """The id of the team with this key (None when the team does not exist)."""
    return session.scalar(select(Team.id).where(Team.key == team_key))


def pick_assignee(*, session: Session, team_id: int) -> int | None:
    """The agent who should get the next ticket of team_id, or None when nobody is available."""
    # Serialise concurrent assignments within a team so two tickets don't both see the same "least loaded".
    session.execute(select(Team.id).where(Team.id == team_id).with_for_update())
    user_id = session.execute(_PICK, {"team_id": team_id}).scalar()
    if user_id is not None:
        session.execute(
            User.__table__.update().where(User.id == user_id).values(last_assigned_at=datetime.now(timezone.utc))
        )
    return user_id
