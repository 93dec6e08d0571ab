"""Recording deployments (start, finish, rollback) with audit rows, in the caller's transaction."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.audit.service import record
from core.auth.roles import Permission, require
from core.releases.models import Deployment, DeploymentStatus


def _check_actor(actor) -> str:
    # A person acting through the console needs RELEASE; the CLI (an operator at a shell) passes a string.
    if not isinstance(actor, str):
        require(actor, Permission.RELEASE)
        return actor.username
    return actor


def start_deployment(*, session: Session, actor, version: str, commit: str | None,
                     revision_before: str | None) -> Deployment:
    """Record a release that is starting (status running) and audit it."""
    who = _check_actor(actor)
    dep = Deployment(version=version, commit=commit, revision_before=revision_before, actor=who,
                     status=DeploymentStatus.RUNNING.value, steps=[])
    session.add(dep)
    session.flush()
    record(session=session, actor=actor, action="release.start", entity="deployment", entity_id=dep.id,
           details={"version": version, "commit": commit, "revision_before": revision_before})
    return dep


def finish_deployment(*, session: Session, actor, deployment_id: int | None, status: DeploymentStatus,
                      steps: list[dict], revision_after: str | None, duration_seconds: float,
                      backup_id: str | None, error: str | None, rollback: dict | None,
                      version: str | None = None, commit: str | None = None,
                      revision_before: str | None = None) -> Deployment:
    """Write a release's outcome (inserting the row when the start could not be recorded) and audit it."""
    _check_actor(actor)
    dep = session.get(Deployment, deployment_id) if deployment_id is not None else None
    if dep is None:
        dep = Deployment(version=version or "unknown", commit=commit, revision_before=revision_before,
                         actor=actor if isinstance(actor, str) else actor.username)
        if deployment_id is not None:
            dep.id = deployment_id
        session.add(dep)
    dep.status = DeploymentStatus(status).value
    dep.steps = list(steps)
    dep.revision_after = revision_after
    dep.duration_seconds = max(0.0, duration_seconds)
    dep.finished_at = datetime.now(timezone.utc)
    dep.backup_id = backup_id
    dep.error = error
    dep.rollback = rollback
    session.flush()
    record(session=session, actor=actor, action="release.finish", entity="deployment", entity_id=dep.id,
           details={"status": dep.status, "revision_after": revision_after, "error": error,
                    "rollback": (rollback or {}).get("method")})
    return dep


def mark_rolled_back(*, session: Session, actor, deployment_id: int, rollback: dict) -> Deployment:
    """Mark a deployment as rolled back by `release rollback` and audit it."""
    _check_actor(actor)
    dep = session.get(Deployment, deployment_id)
    if dep is None:
        raise ValueError(f"no deployment #{deployment_id}")
    dep.status = DeploymentStatus.ROLLED_BACK.value
    dep.rollback = rollback
    dep.steps = [*(dep.steps or []), {"step": "rollback", "ok": bool(rollback.get("ok")),
                                      "message": rollback.get("message", ""), "seconds": rollback.get("seconds", 0)}]
    session.flush()
    record(session=session, actor=actor, action="release.rollback", entity="deployment", entity_id=dep.id,
           details=rollback)
    return dep


def last_succeeded(session: Session) -> Deployment | None:
    """The newest deployment that succeeded (the version running now, as far as releases know)."""
    return session.scalar(select(Deployment).where(Deployment.status == DeploymentStatus.SUCCEEDED.value)
                          .order_by(Deployment.id.desc()).limit(1))


def mark_interrupted(*, session: Session) -> int:
    """Mark deployments left running by a process that died as failed (call while holding the release lock)."""
    result = session.execute(
        update(Deployment).where(Deployment.status == DeploymentStatus.RUNNING.value)
        .values(status=DeploymentStatus.FAILED.value, finished_at=datetime.now(timezone.utc),
                error="interrupted: the process running this release stopped before it finished"))
    session.flush()
    return result.rowcount or 0
