"""Reads for the releases page and `release status`: deployments, migration state, running versions, and what
changed in each window."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, cast, inspect, select
from sqlalchemy.orm import Session

from core.releases.models import Deployment, DeploymentStatus


def _has(session: Session, table: str) -> bool:
    return inspect(session.connection()).has_table(table)


def code_version() -> str:
    """The running code's `git describe --tags --always` ("unknown" outside a checkout)."""
    from core.releases.version import git_version

    return git_version()[0]


def migration_state(url: str) -> dict:
    """{current, head, pending} for the database at url (pending non-empty means the schema is behind)."""
    from core.releases import migrations

    return {"current": migrations.current_revision(url), "head": migrations.script_directory().get_current_head(),
            "pending": migrations.pending_revisions(url)}


def running_versions(session: Session) -> list[dict] | None:
    """Processes seen within heartbeat.FORGET, by kind and host; None before the heartbeats table exists."""
    from core.releases import heartbeat

    if not heartbeat.has_heartbeats(session):
        return None
    return [{"kind": p.kind, "host": p.host, "pid": p.pid, "version": p.version, "commit": (p.commit or "")[:12],
             "started_at": p.started_at, "last_seen": p.last_seen, "seconds_ago": p.seconds_ago,
             "fresh": p.seconds_ago <= heartbeat.FRESH.total_seconds()}
            for p in heartbeat.running_processes(session)]


def _failed_step(steps: list[dict]) -> str | None:
    return next((s.get("step") for s in steps or [] if not s.get("ok")), None)


def deployments(session: Session, *, limit: int = 50) -> list[dict] | None:
    """The newest deployments first, as plain dicts; None when the table does not exist at this revision."""
    if not _has(session, Deployment.__tablename__):
        return None
    rows = session.scalars(select(Deployment).order_by(Deployment.id.desc()).limit(limit)).all()
    return [{"id": d.id, "version": d.version, "commit": (d.commit or "")[:12], "status": d.status,
             "actor": d.actor, "started_at": d.started_at, "finished_at": d.finished_at,
             "duration_seconds": d.duration_seconds, "revision_before": d.revision_before,
             "revision_after": d.revision_after, "backup_id": d.backup_id, "error": d.error,
             "failed_step": _failed_step(d.steps), "rollback": d.rollback, "steps": list(d.steps or [])}
            for d in rows]


def release_windows(rows: list[dict]) -> list[tuple[dict, datetime | None, datetime]]:
    """(deployment, window start, window end) for each finished succeeded deployment, newest first.

    A release's window runs from the previous succeeded deployment's finish to its own finish: what
    shipped or changed in that time went out with it."""
    done = sorted((d for d in rows if d["status"] == DeploymentStatus.SUCCEEDED.value and d["finished_at"]),
                  key=lambda d: d["finished_at"])
    out = []
    for i, d in enumerate(done):
        out.append((d, done[i - 1]["finished_at"] if i else None, d["finished_at"]))
    return list(reversed(out))


ROADMAP_CHANGES = ("roadmap.create", "roadmap.status")


def roadmap_changes_between(session: Session, start: datetime | None, end: datetime) -> list[dict] | None:
    """Roadmap items created or moved between statuses in (start, end], by when the change was made (its
    audit row), not by the ship date a person typed; None when the roadmap or audit table does not exist."""
    if not (_has(session, "roadmap_items") and _has(session, "audit_log")):
        return None
    from core.audit.models import AuditLog
    from core.feedback.models import RoadmapItem

    q = (select(AuditLog.at, AuditLog.entity_id, AuditLog.action, AuditLog.details, AuditLog.actor,
                RoadmapItem.title, RoadmapItem.status)
         .outerjoin(RoadmapItem, cast(RoadmapItem.id, String) == AuditLog.entity_id)
         .where(AuditLog.entity == "roadmap_item", AuditLog.action.in_(ROADMAP_CHANGES), AuditLog.at <= end))
    if start is not None:
        q = q.where(AuditLog.at > start)
    out = []
    for r in session.execute(q.order_by(AuditLog.at, AuditLog.id)):
        d = r.details or {}
        if r.action == "roadmap.create":
            change = f"added as {d.get('status', '?')}"
        else:
            change = f"{d.get('from', '?')} → {d.get('to', '?')}"
        out.append({"at": r.at, "item": int(r.entity_id), "title": r.title or d.get("title", ""), "change": change,
                    "now": r.status or "deleted", "by": r.actor})
    return out


def flag_changes_between(session: Session, start: datetime | None, end: datetime) -> list[dict] | None:
    """Flag versions saved in (start, end], with the flag's name; None when the flag tables do not exist."""
    if not (_has(session, "flag_versions") and _has(session, "flags")):
        return None
    from core.flags.models import Flag, FlagVersion

    q = (select(Flag.name.label("flag"), FlagVersion.version, FlagVersion.actor, FlagVersion.reason,
                FlagVersion.created_at)
         .join(Flag, Flag.id == FlagVersion.flag_id).where(FlagVersion.created_at <= end))
    if start is not None:
        q = q.where(FlagVersion.created_at > start)
    return [dict(r._mapping) for r in session.execute(q.order_by(FlagVersion.created_at))]
