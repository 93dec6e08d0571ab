"""`release`: a release that succeeds, smoke failures rolled back by downgrade and by restore, the lock,
contracting revisions against the process heartbeats, and `release rollback`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, pool, select, text
from sqlalchemy.engine import make_url

from core.config import ROOT
from core.releases import migrations
from core.releases.heartbeat import ProcessInfo, forget_process, record_heartbeat
from core.releases.lock import ReleaseBusy, ReleaseLockHandle
from core.releases.models import Deployment, DeploymentStatus, ProcessKind
from core.releases.pipeline import ReleaseOptions, run_release, run_rollback
from tests.releases.conftest import add_revision

PROBE_UP = "CREATE FUNCTION release_probe() RETURNS int LANGUAGE sql AS 'SELECT 1'"
PROBE_DOWN = "DROP FUNCTION release_probe()"


def _scalar(url: str, sql: str):
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def _has_probe(url: str) -> bool:
    return bool(_scalar(url, "SELECT count(*) FROM pg_proc WHERE proname = 'release_probe'"))


def _deployments(url: str) -> list[Deployment]:
    from sqlalchemy.orm import Session

    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with Session(engine) as s:
            rows = s.scalars(select(Deployment).order_by(Deployment.id)).all()
            s.expunge_all()
            return rows
    finally:
        engine.dispose()


def _seed(session, tickets: int = 20) -> None:
    from core.auth.service import ensure_admin
    from core.demo.seed import seed_all

    ensure_admin(session=session, password="admin-password")
    seed_all(session=session, tickets=tickets, days=5, seed=1)
    session.commit()
    session.close()


def _opts(env, versions, **kw) -> ReleaseOptions:
    base = dict(skip_tests=True, app_url=env.app_url, worker_url=env.worker_url, script_location=versions,
                state_dir=env.state_dir, compare_models=False)
    base.update(kw)
    return ReleaseOptions(**base)


def test_a_release_upgrades_checks_and_is_recorded_and_release_rollback_returns_to_the_previous_revision(
        db_url, session, release_env, versions):
    _seed(session)
    before = migrations.current_revision(db_url)
    rev = add_revision(versions, up=PROBE_UP, down=PROBE_DOWN)
    log: list[str] = []

    result = run_release(url=db_url, actor="cli:alice", progress=log.append,
                         options=_opts(release_env, versions, compare_models=True))

    assert result.status == DeploymentStatus.SUCCEEDED, (result.error, log)
    assert migrations.current_revision(db_url) == rev and _has_probe(db_url)
    [dep] = _deployments(db_url)
    assert dep.status == "succeeded" and dep.actor == "cli:alice" and dep.error is None
    # The version is `git describe` of the commit recorded (HEAD may move while the suite runs).
    assert len(dep.commit) == 40
    described = subprocess.run(["git", "describe", "--tags", "--always", dep.commit], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    assert dep.version == described
    assert (dep.revision_before, dep.revision_after) == (before, rev)
    assert dep.duration_seconds > 0 and dep.finished_at is not None
    assert [s["step"] for s in dep.steps] == ["tests", "migrations", "backup", "upgrade", "smoke"]
    assert all(s["ok"] for s in dep.steps)
    assert "skipped" in dep.steps[0]["message"] and rev in dep.steps[1]["message"]
    assert "overview rendered for admin" in dep.steps[-1]["message"]
    # The pre-deploy backup exists in the target and in the history.
    assert dep.backup_id and any(release_env.backups.rglob(f"*{dep.backup_id}*"))
    assert _scalar(db_url, f"SELECT status FROM backup_runs WHERE id = '{dep.backup_id}'") == "succeeded"
    assert _scalar(db_url, "SELECT count(*) FROM release_lock") == 0  # the holder row is gone

    outcome = run_rollback(url=db_url, actor="cli:bob", script_location=versions, state_dir=release_env.state_dir,
                           progress=log.append)
    assert outcome["ok"] and outcome["method"] == "downgrade"
    assert migrations.current_revision(db_url) == before and not _has_probe(db_url)
    [dep] = _deployments(db_url)
    assert dep.status == "rolled_back" and dep.rollback["via"] == "release rollback"
    assert dep.steps[-1]["step"] == "rollback"


def test_a_failing_smoke_check_is_rolled_back_by_downgrade_and_the_reason_recorded(
        db_url, session, release_env, versions):
    _seed(session, tickets=5)
    before = migrations.current_revision(db_url)
    add_revision(versions, up=PROBE_UP, down=PROBE_DOWN)

    result = run_release(url=db_url, actor="cli:alice", progress=lambda m: None,
                         options=_opts(release_env, versions, app_url=release_env.dead_url))

    assert result.status == DeploymentStatus.ROLLED_BACK
    assert "app health check failed" in result.error and release_env.dead_url in result.error
    assert migrations.current_revision(db_url) == before and not _has_probe(db_url)
    [dep] = _deployments(db_url)
    assert dep.status == "rolled_back" and "app health check failed" in dep.error
    assert dep.rollback["method"] == "downgrade" and dep.rollback["ok"] and dep.rollback["target_revision"] == before
    assert dep.revision_after == before
    assert [(s["step"], s["ok"]) for s in dep.steps][-2:] == [("upgrade", True), ("smoke", False)]


def test_a_failing_smoke_check_over_an_irreversible_revision_restores_the_pre_deploy_backup(
        db_url, session, release_env, versions, pg_server_url):
    _seed(session, tickets=7)
    before = migrations.current_revision(db_url)
    tickets = _scalar(db_url, "SELECT count(*) FROM tickets")
    add_revision(versions, up=PROBE_UP + "; DELETE FROM mail_outbox", down="SELECT 1", irreversible=True)
    new_db = None
    try:
        result = run_release(url=db_url, actor="cli:alice", progress=lambda m: None,
                             options=_opts(release_env, versions, worker_url=release_env.dead_url, check_page=False))

        assert result.status == DeploymentStatus.ROLLED_BACK, result.rollback
        assert "worker metrics check failed" in result.error
        rb = result.rollback
        assert rb["method"] == "restore" and rb["ok"] and rb["backup_id"] == result.backup_id
        assert "irreversible" in rb["message"]
        new_db = rb["new_database"]
        new_url = make_url(db_url).set(database=new_db).render_as_string(hide_password=False)
        # The recovered database is the pre-deploy state: old revision, same data, no probe.
        assert migrations.current_revision(new_url) == before and not _has_probe(new_url)
        assert _scalar(new_url, "SELECT count(*) FROM tickets") == tickets
        # The upgraded database is kept, untouched, for inspection.
        assert _has_probe(db_url)
        # The console is switched to the recovered database.
        from core.backups.recover import active_database

        assert active_database(release_env.state_dir)["database"] == new_db
        # Both databases say what happened.
        for url in (new_url, db_url):
            [dep] = _deployments(url)
            assert dep.status == "rolled_back" and dep.rollback["method"] == "restore"
            assert "worker metrics check failed" in dep.error
        assert _scalar(new_url, "SELECT count(*) FROM release_lock") == 0
    finally:
        if new_db:
            admin = create_engine(pg_server_url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{new_db}" WITH (FORCE)'))
            admin.dispose()


def test_a_second_release_is_refused_with_who_holds_the_lock(db_url, release_env, versions):
    with ReleaseLockHandle(db_url, actor="cli:alice"):
        with pytest.raises(ReleaseBusy, match="held by cli:alice"):
            run_release(url=db_url, actor="cli:bob", progress=lambda m: None, options=_opts(release_env, versions))
        env = dict(os.environ, DATABASE_URL=db_url)
        out = subprocess.run([sys.executable, "-m", "core", "release", "--skip-tests"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 2
        assert "release refused: another release is running: held by cli:alice" in out.stderr
    assert _deployments(db_url) == []
    # Released: the next one may start (and is refused only by what it checks).
    with ReleaseLockHandle(db_url, actor="cli:bob"):
        pass


@pytest.fixture
def release_repo(tmp_path) -> tuple[Path, str]:
    """A git checkout of the version being released (v1.3.0), so its commit stays put while the suite runs."""
    repo = tmp_path / "release-repo"
    repo.mkdir()
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com")

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True,
                              text=True).stdout.strip()

    git("init", "-q", "-b", "main")
    (repo / "README").write_text("aftercare\n")
    git("add", "README")
    git("commit", "-q", "-m", "feat: the release")
    git("tag", "v1.3.0")
    return repo, git("rev-parse", "HEAD")


def _beat(session, *, kind: str, host: str, pid: int, version: str, commit: str | None,
          seconds_ago: float | None = None) -> ProcessInfo:
    """A heartbeat as the running process writes it (seconds_ago: its last one was that long ago)."""
    now = datetime.now(timezone.utc)
    process = ProcessInfo(kind=ProcessKind(kind), host=host, pid=pid, version=version, commit=commit,
                          started_at=now - timedelta(hours=1))
    record_heartbeat(session=session, process=process,
                     seen_at=None if seconds_ago is None else now - timedelta(seconds=seconds_ago))
    session.commit()
    return process


OLD = "a" * 40


def test_a_contracting_revision_is_refused_while_the_previous_version_reports_and_released_after_the_restart(
        db_url, session, release_env, versions, release_repo):
    repo, commit = release_repo
    before = migrations.current_revision(db_url)
    rev = add_revision(versions, up=PROBE_UP, down=PROBE_DOWN, contracting=True)
    old_worker = _beat(session, kind="worker", host="host-a", pid=123, version="v1.2.0", commit=OLD, seconds_ago=40)
    old_app = _beat(session, kind="app", host="host-b", pid=77, version="v1.2.0", commit=OLD)
    _beat(session, kind="app", host="host-c", pid=88, version="v1.3.0", commit=commit)  # already restarted

    refused = run_release(url=db_url, actor="cli:alice", progress=lambda m: None,
                          options=_opts(release_env, versions, check_page=False, repo=repo))

    assert refused.status == DeploymentStatus.FAILED
    assert refused.error.startswith(f"revision(s) {rev} are contracting and version v1.2.0 still runs: ")
    assert re.search(r"worker on host-a pid 123 \(seen \d+ s ago\)", refused.error), refused.error
    assert re.search(r"app on host-b pid 77 \(seen \d+ s ago\)", refused.error), refused.error
    assert "host-c" not in refused.error  # the replica on the released commit is no obstacle
    assert "wait for the rolling restart to v1.3.0, then release again" in refused.error
    assert "checked the process heartbeats" in refused.error and "--previous-stopped" in refused.error
    assert refused.rollback["method"] == "none" and refused.backup_id is None
    assert migrations.current_revision(db_url) == before and not _has_probe(db_url)
    [dep] = _deployments(db_url)
    assert dep.status == "failed" and dep.steps[-1]["step"] == "migrations" and "host-a" in dep.error

    # The rolling restart finishes: the old worker stops (its row goes), the old replica comes back on v1.3.0.
    forget_process(session=session, instance=old_worker.instance)
    session.commit()
    _beat(session, kind="app", host="host-b", pid=old_app.pid + 1, version="v1.3.0", commit=commit)
    # ... and the replica the restart replaced still has its row until it ages out: stop it cleanly too.
    forget_process(session=session, instance=old_app.instance)
    session.commit()

    done = run_release(url=db_url, actor="cli:alice", progress=lambda m: None,
                       options=_opts(release_env, versions, check_page=False, repo=repo))
    assert done.status == DeploymentStatus.SUCCEEDED, done.error
    assert migrations.current_revision(db_url) == rev and _has_probe(db_url)
    step = next(s for s in _deployments(db_url)[-1].steps if s["step"] == "migrations")
    assert "contracting allowed: the heartbeats of the last 3 min show only v1.3.0 (2 processes)" in step["message"]


def test_a_contracting_revision_goes_ahead_when_the_old_version_was_last_seen_minutes_ago(
        db_url, session, release_env, versions, release_repo):
    repo, _ = release_repo
    rev = add_revision(versions, up=PROBE_UP, down=PROBE_DOWN, contracting=True)
    _beat(session, kind="worker", host="host-a", pid=123, version="v1.2.0", commit=OLD, seconds_ago=5 * 60)

    done = run_release(url=db_url, actor="cli:alice", progress=lambda m: None,
                       options=_opts(release_env, versions, check_page=False, repo=repo))

    assert done.status == DeploymentStatus.SUCCEEDED, done.error
    assert migrations.current_revision(db_url) == rev
    assert "no process heartbeat in the last 3 min" in done.steps[1]["message"]


def test_previous_stopped_overrides_the_heartbeats_and_the_step_log_says_what_it_overrode(
        db_url, session, release_env, versions, release_repo):
    repo, _ = release_repo
    rev = add_revision(versions, up=PROBE_UP, down=PROBE_DOWN, contracting=True)
    _beat(session, kind="worker", host="host-a", pid=123, version="v1.2.0", commit=OLD)

    done = run_release(url=db_url, actor="cli:alice", progress=lambda m: None,
                       options=_opts(release_env, versions, check_page=False, repo=repo, previous_stopped=True))

    assert done.status == DeploymentStatus.SUCCEEDED, done.error
    assert migrations.current_revision(db_url) == rev
    message = done.steps[1]["message"]
    assert "allowed by --previous-stopped, although the heartbeats show that version v1.2.0 still runs: " \
           "worker on host-a pid 123 (seen " in message


def test_before_heartbeats_exist_a_contracting_revision_waits_for_previous_stopped(
        db_url, session, release_env, versions):
    from core.db import migrate

    # A release whose process died long ago left its row running: the next release closes it.
    session.add(Deployment(version="v0", actor="cli:ghost", status="running"))
    session.commit()
    session.close()
    migrate.downgrade(db_url, "0012")  # the schema before process heartbeats
    rev = add_revision(versions, up=PROBE_UP, down=PROBE_DOWN, contracting=True)

    refused = run_release(url=db_url, actor="cli:alice", progress=lambda m: None,
                          options=_opts(release_env, versions, check_page=False))
    assert refused.status == DeploymentStatus.FAILED
    assert "contracting" in refused.error and "no process heartbeats" in refused.error
    assert "--previous-stopped" in refused.error
    assert refused.rollback["method"] == "none" and refused.backup_id is None
    assert migrations.current_revision(db_url) == "0012"

    done = run_release(url=db_url, actor="cli:alice", progress=lambda m: None,
                       options=_opts(release_env, versions, check_page=False, previous_stopped=True))
    assert done.status == DeploymentStatus.SUCCEEDED, done.error
    assert migrations.current_revision(db_url) == rev
    deps = _deployments(db_url)
    assert [d.status for d in deps] == ["failed", "failed", "succeeded"]
    assert deps[0].error.startswith("interrupted") and deps[0].finished_at is not None


def test_models_that_disagree_with_the_migrations_stop_the_release_before_anything_changes(
        db_url, release_env, versions):
    before = migrations.current_revision(db_url)
    add_revision(versions, up="CREATE TABLE not_in_the_models (id int)", down="DROP TABLE not_in_the_models")
    result = run_release(url=db_url, actor="cli:alice", progress=lambda m: None,
                         options=_opts(release_env, versions, compare_models=True))
    assert result.status == DeploymentStatus.FAILED
    assert "models and migrations disagree" in result.error
    assert "remove_table not_in_the_models" in result.error
    assert migrations.current_revision(db_url) == before and result.backup_id is None


def test_failing_tests_stop_the_release_before_the_backup(db_url, release_env, versions, tmp_path):
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_broken.py").write_text("def test_fails():\n    assert 1 == 2\n")
    before = migrations.current_revision(db_url)
    add_revision(versions, up=PROBE_UP, down=PROBE_DOWN)
    result = run_release(url=db_url, actor="cli:alice", progress=lambda m: None,
                         options=_opts(release_env, versions, skip_tests=False, repo=suite,
                                       test_args=("-q", "-p", "no:cacheprovider"), test_timeout_seconds=120))
    assert result.status == DeploymentStatus.FAILED
    assert result.error.startswith("tests failed:") and "1 failed" in result.error
    assert result.backup_id is None and migrations.current_revision(db_url) == before
    [dep] = _deployments(db_url)
    assert [(s["step"], s["ok"]) for s in dep.steps] == [("tests", False)]
