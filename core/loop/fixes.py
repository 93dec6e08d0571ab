"""Fixes that ship: bug tickets linked to a commit or release item are solved, and their requesters told, when it deploys."""

from __future__ import annotations

import logging
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.accounts.models import Contact
from core.audit.service import record
from core.auth.models import User
from core.auth.roles import Permission, require
from core.config import ROOT
from core.loop.models import FixNotice, FixOutcome, FixSource, ReleaseTicket, TicketFix
from core.mail.service import queue_mail
from core.releases.models import Deployment, DeploymentStatus
from core.tickets import service as tickets
from core.tickets.enums import Category, TicketStatus
from core.tickets.models import Ticket

log = logging.getLogger(__name__)

TICKET_REF = re.compile(r"\bAC-(\d+)\b")
SHA = re.compile(r"^[0-9a-f]{7,40}$")
MAX_COMMITS = 5000   # commits read from one deployment's range at most


class FixError(ValueError):
    """A fix link could not be stored; the message says why."""


def references(message: str) -> list[int]:
    """The ticket numbers a commit message names (AC-1234), in order, each once."""
    return list(dict.fromkeys(int(n) for n in TICKET_REF.findall(message or "")))


# ------------------------------------------------------------------------------------------- linking

def link_fix(*, session: Session, actor: User, ticket_id: int, commit: str | None = None,
             release_item: str | None = None) -> TicketFix:
    """Link a bug ticket to the commit or release item (a version such as v1.4.0) that fixes it."""
    require(actor, Permission.WORK_TICKETS)
    commit = (commit or "").strip().lower() or None
    release_item = (release_item or "").strip() or None
    if commit is None and release_item is None:
        raise FixError("give a commit (its hash) or a release item")
    if commit is not None and not SHA.match(commit):
        raise FixError(f"commit: {commit!r} is not a commit hash (7 to 40 hex digits)")
    if release_item is not None and len(release_item) > 200:
        raise FixError("release item: at most 200 characters")
    ticket = tickets.get_ticket(session=session, ticket_id=ticket_id)
    if ticket.category != Category.BUG:
        raise FixError(f"{ticket.reference} is a {ticket.category}, not a bug; only bugs are linked to fixes")
    fix = TicketFix(ticket_id=ticket.id, commit_sha=commit, release_item=None if commit else release_item,
                    source=FixSource.MANUAL, linked_by=actor.id)
    if commit and release_item:
        fix.release_item = release_item
    session.add(fix)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise FixError(f"{ticket.reference} is linked to that fix already") from None
    record(session=session, actor=actor, action="ticket.link_fix", entity="ticket", entity_id=ticket.id,
           details={"commit": commit, "release_item": release_item})
    return fix


def fixes_for_ticket(*, session: Session, ticket_id: int) -> list[dict]:
    """A ticket's fix links, with the release that shipped each (if any)."""
    rows = session.execute(
        select(TicketFix.id, TicketFix.commit_sha, TicketFix.release_item, TicketFix.source, TicketFix.linked_at,
               TicketFix.deployed_at, Deployment.version, Deployment.id.label("deployment_id"))
        .outerjoin(Deployment, Deployment.id == TicketFix.deployment_id)
        .where(TicketFix.ticket_id == ticket_id).order_by(TicketFix.id))
    return [dict(r._mapping) for r in rows]


# ------------------------------------------------------------------------------------------- git

def _git(repo: Path, *args: str) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None


def commits_between(repo: Path, since: str | None, until: str) -> list[tuple[str, str, datetime]]:
    """(hash, full message, commit time) of the commits in since..until, or of until's history when since is
    None (at most MAX_COMMITS, newest first)."""
    rng = [f"--max-count={MAX_COMMITS}", f"{since}..{until}" if since else until]
    out = _git(repo, "log", "--format=%H%x1f%ct%x1f%B%x1e", *rng)
    if out is None or out.returncode != 0:
        return []
    commits = []
    for chunk in out.stdout.split("\x1e"):
        if chunk.count("\x1f") >= 2:
            sha, ts, msg = chunk.split("\x1f", 2)
            commits.append((sha.strip(), msg.strip(), datetime.fromtimestamp(int(ts), timezone.utc)))
    return commits


def _contains(repo: Path, commit: str, head: str) -> bool:
    out = _git(repo, "merge-base", "--is-ancestor", commit, head)
    return out is not None and out.returncode == 0


# ------------------------------------------------------------------------------------------- deploy hooks

def on_deployment(*, session: Session, deployment: Deployment, repo: Path | None = None, progress=None) -> dict:
    """Hook for core.releases.pipeline.DEPLOYMENT_HOOKS: a succeeded deployment ships its fixes, a rolled-back one undoes them."""
    if not inspect(session.connection()).has_table(ReleaseTicket.__tablename__):
        return {}   # a database at a revision before these tables (e.g. a release rolled back past them)
    if deployment.status == DeploymentStatus.SUCCEEDED.value:
        out = ship(session=session, deployment=deployment, repo=repo or ROOT)
    elif deployment.status == DeploymentStatus.ROLLED_BACK.value:
        out = unship(session=session, deployment=deployment)
    else:
        return {}
    if progress and any(out.values()):
        progress("    fixes: " + ", ".join(f"{k} {len(v)}" for k, v in out.items() if v))
    return out


def ship(*, session: Session, deployment: Deployment, repo: Path = ROOT) -> dict:
    """Solve the bug tickets whose fix this deployment contains and tell their requesters (once); list bad references."""
    if session.scalar(select(ReleaseTicket.id).where(ReleaseTicket.deployment_id == deployment.id).limit(1)):
        return {"solved": [], "told": [], "bad": []}   # this deployment was processed already
    now = datetime.now(timezone.utc)
    previous = session.scalar(
        select(Deployment.commit).where(Deployment.status == DeploymentStatus.SUCCEEDED.value,
                                        Deployment.id < deployment.id, Deployment.commit.is_not(None))
        .order_by(Deployment.id.desc()).limit(1))
    if previous and deployment.commit and not _contains(repo, previous, deployment.commit):
        previous = None   # not an ancestor (another branch): no known range
    bad: list[dict] = []
    shipped: list[tuple[TicketFix, str | None]] = []
    if deployment.commit:
        # The commits this deployment adds: since the previous succeeded deployment. With none known (the
        # first deployment, or another branch) its history is read, but only commits made after the
        # oldest ticket count, and a commit can only fix a ticket reported before it: an old message
        # that happens to say "AC-12" never solves today's AC-12.
        oldest = None if previous else session.scalar(select(func.min(Ticket.created_at)))
        for sha, message, committed in commits_between(repo, previous, deployment.commit):
            if previous is None and (oldest is None or committed < oldest):
                continue
            for number in references(message):
                ticket = session.get(Ticket, number)
                if previous is None and ticket is not None and committed < ticket.created_at:
                    continue
                outcome = (FixOutcome.NOT_FOUND if ticket is None
                           else FixOutcome.NOT_BUG if ticket.category != Category.BUG else None)
                if outcome is not None:
                    bad.append({"reference": f"AC-{number}", "commit": sha, "outcome": outcome.value,
                                "why": "no such ticket" if outcome == FixOutcome.NOT_FOUND
                                else f"a {ticket.category}, not a bug"})
                    session.add(ReleaseTicket(deployment_id=deployment.id, reference=f"AC-{number}",
                                              ticket_id=ticket.id if ticket else None, commit_sha=sha,
                                              outcome=outcome.value, at=now))
                    continue
                fix = session.scalar(select(TicketFix).where(TicketFix.ticket_id == number,
                                                             TicketFix.commit_sha == sha))
                if fix is None:
                    fix = TicketFix(ticket_id=number, commit_sha=sha, source=FixSource.COMMIT_MESSAGE)
                    session.add(fix)
                    session.flush()
                if fix.deployment_id is None:
                    shipped.append((fix, sha))
        # Links made by hand to a commit that this deployment contains.
        for fix in session.scalars(select(TicketFix).where(TicketFix.deployment_id.is_(None),
                                                           TicketFix.commit_sha.is_not(None))):
            if all(f is not fix for f, _ in shipped) and _contains(repo, fix.commit_sha, deployment.commit):
                shipped.append((fix, fix.commit_sha))
    for fix in session.scalars(select(TicketFix).where(TicketFix.deployment_id.is_(None),
                                                       TicketFix.commit_sha.is_(None),
                                                       TicketFix.release_item == deployment.version)):
        shipped.append((fix, None))

    solved, told = [], []
    done_tickets: set[int] = set()
    for fix, sha in shipped:
        fix.deployment_id, fix.deployed_at = deployment.id, now
        if fix.ticket_id in done_tickets:
            continue
        done_tickets.add(fix.ticket_id)
        ticket = tickets.get_ticket(session=session, ticket_id=fix.ticket_id, for_update=True)
        outcome = FixOutcome.ALREADY_SOLVED
        if ticket.status not in (TicketStatus.SOLVED, TicketStatus.CLOSED):
            tickets.apply_external_change(session=session, ticket=ticket, status=TicketStatus.SOLVED,
                                          source=f"release {deployment.version} (deployment #{deployment.id}), "
                                                 "which contains the fix")
            outcome = FixOutcome.SOLVED
            solved.append(ticket.id)
        session.add(ReleaseTicket(deployment_id=deployment.id, reference=ticket.reference, ticket_id=ticket.id,
                                  commit_sha=sha, outcome=outcome.value, at=now))
        if _tell_fix_live(session, ticket, deployment):
            told.append(ticket.id)
    session.flush()
    if bad:
        # The release record lists the references that changed nothing.
        deployment.steps = [*(deployment.steps or []), {
            "step": "fixes", "ok": True, "seconds": 0,
            "message": (f"solved {len(solved)} ticket(s); ignored " + "; ".join(
                f"{b['reference']} in {b['commit'][:10]} ({b['why']})" for b in bad))}]
    elif solved:
        deployment.steps = [*(deployment.steps or []), {"step": "fixes", "ok": True, "seconds": 0,
                                                        "message": f"solved {len(solved)} ticket(s)"}]
    session.flush()
    record(session=session, actor=deployment.actor or "release", action="release.fixes", entity="deployment",
           entity_id=deployment.id, details={"solved": solved, "told": told, "bad": bad})
    return {"solved": solved, "told": told, "bad": bad}


def _tell_fix_live(session: Session, ticket: Ticket, deployment: Deployment) -> bool:
    if ticket.requester_id is None:
        return False
    if session.scalar(select(FixNotice.id).where(FixNotice.ticket_id == ticket.id)) is not None:
        return False   # told once already (e.g. before a rollback and this re-release)
    contact = session.get(Contact, ticket.requester_id)
    if ticket.language == "es" or contact.language == "es":
        subject = f"La corrección ya está disponible: {ticket.subject}"
        body = (f"Hola {contact.name}:\n\nLa corrección del problema que nos contaste en {ticket.reference} "
                f"({ticket.subject}) ya está disponible en la versión {deployment.version}.\n"
                "Si vuelve a ocurrir, responde a este mensaje y reabriremos la solicitud.\n")
    else:
        subject = f"The fix is live: {ticket.subject}"
        body = (f"Hello {contact.name},\n\nThe fix for the problem you reported in {ticket.reference} "
                f"({ticket.subject}) is live in release {deployment.version}.\n"
                "If it happens again, reply to this message and we will reopen your request.\n")
    mail = queue_mail(session=session, to=contact.email, subject=subject, body=body, kind="fix_live",
                      ticket_id=ticket.id)
    session.add(FixNotice(ticket_id=ticket.id, deployment_id=deployment.id, mail_id=mail.id))
    session.flush()
    return True


def unship(*, session: Session, deployment: Deployment) -> dict:
    """Reopen the tickets a rolled-back deployment solved (no new mail) and make their fixes pending again."""
    now = datetime.now(timezone.utc)
    reopened = []
    rows = list(session.scalars(select(ReleaseTicket).where(ReleaseTicket.deployment_id == deployment.id,
                                                            ReleaseTicket.outcome == FixOutcome.SOLVED.value)))
    for row in rows:
        ticket = session.get(Ticket, row.ticket_id) if row.ticket_id else None
        if ticket is not None and ticket.status == TicketStatus.SOLVED:
            tickets.apply_external_change(session=session, ticket=ticket, status=TicketStatus.OPEN,
                                          source=f"the rollback of release {deployment.version} "
                                                 f"(deployment #{deployment.id}); the fix is no longer live")
            reopened.append(ticket.id)
        row.outcome = FixOutcome.REOPENED.value
        row.at = now
    for fix in session.scalars(select(TicketFix).where(TicketFix.deployment_id == deployment.id)):
        fix.deployment_id, fix.deployed_at = None, None
    session.flush()
    if rows:
        record(session=session, actor=deployment.actor or "release", action="release.fixes_reopened",
               entity="deployment", entity_id=deployment.id, details={"reopened": reopened})
    return {"reopened": reopened}


def release_tickets(*, session: Session, deployment_id: int) -> list[dict]:
    """What a deployment did to tickets: solved, reopened, and the references it ignored."""
    rows = session.execute(select(ReleaseTicket.reference, ReleaseTicket.ticket_id, ReleaseTicket.commit_sha,
                                  ReleaseTicket.outcome, ReleaseTicket.at)
                           .where(ReleaseTicket.deployment_id == deployment_id).order_by(ReleaseTicket.id))
    return [dict(r._mapping) for r in rows]
