"""`release`: a release that succeeds, smoke failures rolled back by downgrade and by restore, the lock,
contracting revisions, and `release rollback`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, pool, select, text
from sqlalchemy.engine import make_url

from core.config import ROOT
from core.releases import migrations
from core.releases.lock import ReleaseBusy, ReleaseLockHandle
from core.releases.models import Deployment, DeploymentStatus
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


def test_a_contracting_revision_waits_until_the_previous_version_has_stopped(db_url, session, release_env, versions):
    # A release whose process died long ago left its row running: the next release closes it.
    session.add(Deployment(version="v0", actor="cli:ghost", status="running"))
    session.commit()
    before = migrations.current_revision(db_url)
    rev = add_revision(versions, up=PROBE_UP, down=PROBE_DOWN, contracting=True)

    refused = run_release(url=db_url, actor="cli:alice", progress=lambda m: None,
                          options=_opts(release_env, versions, check_page=False))
    assert refused.status == DeploymentStatus.FAILED
    assert "contracting" in refused.error and "--previous-stopped" in refused.error
    assert refused.rollback["method"] == "none" and refused.backup_id is None
    assert migrations.current_revision(db_url) == before

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
