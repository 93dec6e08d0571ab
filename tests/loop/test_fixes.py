"""Fixes that ship: a release with a fix solves the linked bugs and tells requesters once; its rollback reopens them."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from core.loop import fixes
from core.loop.fixes import FixError
from core.mail.models import OutboxMessage
from core.overview import kpis as overview
from core.releases import pipeline
from core.releases import service as releases
from core.tickets.models import TicketEvent


def _git(repo, *args):
    env = dict(os.environ, GIT_AUTHOR_NAME="Dev", GIT_AUTHOR_EMAIL="dev@example.com", GIT_COMMITTER_NAME="Dev",
               GIT_COMMITTER_EMAIL="dev@example.com", GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout.strip()


def _commit(repo, message, at: datetime | None = None):
    (repo / "log.txt").open("a").write(message + "\n")
    _git(repo, "add", "log.txt")
    if at is None:
        _git(repo, "commit", "-q", "-m", message)
    else:
        stamp = at.strftime("%Y-%m-%dT%H:%M:%S+0000")
        subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo, check=True, capture_output=True,
                       env=dict(os.environ, GIT_AUTHOR_NAME="Dev", GIT_AUTHOR_EMAIL="dev@example.com",
                                GIT_COMMITTER_NAME="Dev", GIT_COMMITTER_EMAIL="dev@example.com",
                                GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_DATE=stamp,
                                GIT_COMMITTER_DATE=stamp))
    return _git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path):
    r = tmp_path / "repo"
    r.mkdir()
    _git(r, "init", "-q", "-b", "main")
    return r


def _deploy(session, version, commit, status="succeeded"):
    dep = releases.start_deployment(session=session, actor="cli:ops", version=version, commit=commit,
                                    revision_before="0009")
    return releases.finish_deployment(session=session, actor="cli:ops", deployment_id=dep.id, status=status,
                                      steps=[{"step": "smoke", "ok": True, "message": "ok", "seconds": 0}],
                                      revision_after="0010", duration_seconds=1.0, backup_id=None, error=None,
                                      rollback=None)


def _fix_mails(session):
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "fix_live")))


def test_commit_references_are_parsed():
    assert fixes.references("fix: export crash (AC-1234)\n\nalso AC-7, AC-1234; not XAC-9 or AC-x") == [1234, 7]


def test_a_release_with_fixes_solves_them_tells_requesters_once_and_its_rollback_reopens_them(
        session, make_user, make_contact, make_ticket, repo, monkeypatch):
    agent = make_user("agent")
    ana, bob = make_contact(name="Ana"), make_contact(name="Bob")
    crash = make_ticket(ana, subject="Export crashes")
    slow = make_ticket(bob, subject="Charts are blank")
    question = make_ticket(bob, category="question", subject="How do I export?")
    base = _commit(repo, "feat: first")
    _deploy(session, "v1.0.0", base)
    fix_sha = _commit(repo, f"fix: export crash (AC-{crash.id})")
    _commit(repo, f"fix: typo (AC-999999) and see AC-{question.id}")
    head = _commit(repo, "docs: notes")
    fixes.link_fix(session=session, actor=agent, ticket_id=slow.id, release_item="v1.1.0")
    with pytest.raises(FixError, match="not a bug"):
        fixes.link_fix(session=session, actor=agent, ticket_id=question.id, commit=fix_sha)
    with pytest.raises(FixError, match="commit hash"):
        fixes.link_fix(session=session, actor=agent, ticket_id=crash.id, commit="not-a-sha")
    session.commit()

    # The release pipeline records the deployment and runs its hooks (pointed at the test repository).
    monkeypatch.setattr(fixes, "ROOT", repo)
    dep = _deploy(session, "v1.1.0", head)
    log: list[str] = []
    pipeline._run_deployment_hooks(session, dep, log.append)
    session.commit()

    for t in (crash, slow):
        session.refresh(t)
        assert t.status == "solved"
        ev = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id, TicketEvent.kind == "status")
                             .order_by(TicketEvent.id.desc())).first()
        assert "release v1.1.0" in ev.body and ev.public
    session.refresh(question)
    assert question.status == "open"
    assert sorted(m.to_addr for m in _fix_mails(session)) == sorted([ana.email, bob.email])
    assert "live in release v1.1.0" in _fix_mails(session)[0].body
    outcomes = {(r["reference"], r["outcome"]) for r in fixes.release_tickets(session=session, deployment_id=dep.id)}
    assert outcomes == {(f"AC-{crash.id}", "solved"), (f"AC-{slow.id}", "solved"), ("AC-999999", "not_found"),
                        (f"AC-{question.id}", "not_bug")}
    session.refresh(dep)
    fixes_step = dep.steps[-1]
    assert fixes_step["step"] == "fixes" and "AC-999999" in fixes_step["message"] and "not a bug" in fixes_step["message"]
    assert [f["version"] for f in fixes.fixes_for_ticket(session=session, ticket_id=crash.id)] == ["v1.1.0"]
    from core.loop.outcomes import ticket_outcomes

    assert [f["version"] for f in ticket_outcomes(session=session, ticket_id=crash.id)["fixes"]] == ["v1.1.0"]
    assert any("fixes: solved 2" in line for line in log)

    # `release rollback` marks it rolled back and runs the hooks: the tickets reopen, nobody is mailed.
    mails_before = session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1))
    dep = releases.mark_rolled_back(session=session, actor="cli:ops", deployment_id=dep.id,
                                    rollback={"ok": True, "method": "downgrade", "message": "downgraded"})
    pipeline._run_deployment_hooks(session, dep, log.append)
    session.commit()
    for t in (crash, slow):
        session.refresh(t)
        assert t.status == "open" and t.solved_at is None
    assert session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1)) == mails_before
    assert {r["outcome"] for r in fixes.release_tickets(session=session, deployment_id=dep.id)
            if r["reference"] in (f"AC-{crash.id}", f"AC-{slow.id}")} == {"reopened"}

    # Released again: solved again, but the requesters were told already.
    again = _deploy(session, "v1.1.0", head)
    fixes.on_deployment(session=session, deployment=again, repo=repo)
    session.commit()
    session.refresh(crash)
    assert crash.status == "solved"
    assert len(_fix_mails(session)) == 2


def test_the_first_deployment_ships_fixes_made_after_the_report_but_not_old_messages(
        session, make_contact, make_ticket, repo):
    ana = make_contact(name="Ana")
    crash = make_ticket(ana, subject="Export crashes")
    reported = crash.created_at
    _commit(repo, f"fix: an old fix that happens to say AC-{crash.id}", at=reported - timedelta(days=400))
    _commit(repo, "fix: a reference to nothing (AC-999999)", at=reported + timedelta(minutes=30))
    head = _commit(repo, f"fix: export crash (AC-{crash.id})", at=reported + timedelta(hours=2))
    dep = _deploy(session, "v1.0.0", head)   # no earlier deployment: no known range
    out = fixes.on_deployment(session=session, deployment=dep, repo=repo)
    session.commit()
    session.refresh(crash)
    assert crash.status == "solved" and out["solved"] == [crash.id]
    outcomes = {(r["reference"], r["outcome"], r["commit_sha"]) for r in
                fixes.release_tickets(session=session, deployment_id=dep.id)}
    assert {(ref, outcome) for ref, outcome, _ in outcomes} == {(f"AC-{crash.id}", "solved"), ("AC-999999", "not_found")}
    assert next(c for ref, _, c in outcomes if ref == f"AC-{crash.id}") == head


def test_bug_fix_time_uses_the_deployed_fix_where_one_is_linked(session, make_user, make_contact, make_ticket):
    now = datetime.now(timezone.utc)
    c = make_contact()
    linked = make_ticket(c, status="solved", created_at=now - timedelta(hours=30))
    linked.solved_at = now - timedelta(hours=2)                 # solved 28 h after the report...
    plain = make_ticket(c, status="solved", created_at=now - timedelta(hours=12))
    plain.solved_at = now - timedelta(hours=2)                  # ...this one 10 h after
    dep = _deploy(session, "v2.0.0", None)
    from core.loop.models import TicketFix

    session.add(TicketFix(ticket_id=linked.id, release_item="v2.0.0", deployment_id=dep.id,
                          deployed_at=now - timedelta(hours=26)))   # but its fix was live 4 h after the report
    session.flush()
    values, _ = overview.collect(session=session, start=now - timedelta(days=7), end=now)
    assert values["bug_fix_median_hours"] == pytest.approx(7.0, abs=0.01)   # median of 4 h and 10 h


def test_the_cli_lists_what_a_release_did_and_refuses_unknown_ids(session, make_contact, make_ticket, repo, capsys):
    import json

    from core.cli import main

    question = make_ticket(make_contact(), category="question")
    _deploy(session, "v1.0.0", _commit(repo, "feat: first"))
    dep = _deploy(session, "v1.0.1", _commit(repo, f"fix: nothing (AC-{question.id})"))
    fixes.on_deployment(session=session, deployment=dep, repo=repo)
    session.commit()
    assert main(["loop", "release-tickets", str(dep.id)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["reference"], r["outcome"]) for r in rows] == [(f"AC-{question.id}", "not_bug")]
    assert main(["loop", "release-tickets", "999999"]) != 0
    assert "no deployment #999999" in capsys.readouterr().err
