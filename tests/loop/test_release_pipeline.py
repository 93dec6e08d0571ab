"""Through the real release pipeline: a release whose commits fix a bug solves it; `release rollback` reopens it."""

from __future__ import annotations

from sqlalchemy import select

from core.loop import fixes
from core.mail.models import OutboxMessage
from core.releases.models import Deployment
from core.releases.pipeline import ReleaseOptions, run_release, run_rollback
from core.tickets.models import Ticket
from tests.loop.test_fixes import _commit, _git  # noqa: F401  (helpers)
from tests.releases.conftest import release_env  # noqa: F401  (fixture)


def test_release_solves_the_referenced_bug_and_release_rollback_reopens_it(
        db_url, session, release_env, make_contact, make_ticket, tmp_path, monkeypatch):  # noqa: F811
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    monkeypatch.setattr(fixes, "ROOT", repo)
    ana = make_contact(name="Ana")
    bug = make_ticket(ana, subject="Export crashes")
    session.commit()
    opts = ReleaseOptions(skip_tests=True, app_url=release_env.app_url, worker_url=release_env.worker_url,
                          state_dir=release_env.state_dir, compare_models=False, check_page=False, repo=repo)
    log: list[str] = []

    _commit(repo, "feat: first")
    _git(repo, "tag", "v1.0.0")
    assert run_release(url=db_url, actor="cli:ops", options=opts, progress=log.append).status == "succeeded"
    _commit(repo, f"fix: export crash (AC-{bug.id})")
    _git(repo, "tag", "v1.0.1")
    second = run_release(url=db_url, actor="cli:ops", options=opts, progress=log.append)
    assert second.status == "succeeded", log

    session.expire_all()
    assert session.get(Ticket, bug.id).status == "solved"
    dep = session.get(Deployment, second.deployment_id)
    assert dep.version == "v1.0.1" and dep.steps[-1]["step"] == "fixes"
    live = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "fix_live")).all()
    assert [m.to_addr for m in live] == [ana.email] and "v1.0.1" in live[0].body

    outcome = run_rollback(url=db_url, actor="cli:ops", state_dir=release_env.state_dir, progress=log.append)
    assert outcome["ok"], log
    session.expire_all()
    assert session.get(Ticket, bug.id).status == "open"
    assert len(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "fix_live")).all()) == 1
