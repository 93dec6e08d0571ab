"""The release pipeline: tests, migration checks, pre-deploy backup, upgrade, smoke checks, record; rollback on failure.

Order matters: nothing changes before the backup exists, and every failure after the upgrade is undone,
by an Alembic downgrade when every revision in between can go down, otherwise by restoring the
pre-deploy backup into a new database and switching the console to it (core.backups.recover).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import create_engine, inspect, pool, select
from sqlalchemy.orm import Session

from core.config import ROOT, VAR, get_settings
import core.db.models  # noqa: F401,E402  (every table known: audit rows reference users)
from core.releases import lock as release_lock
from core.releases import migrations
from core.releases import service
from core.releases.models import Deployment, DeploymentStatus
from core.releases.version import git_version


# Other domains react to a recorded deployment outcome (succeeded, rolled back): "module:function", called as
# function(session=..., deployment=..., progress=...) in the recording transaction; a failing hook is logged and
# never loses the deployment record (a missing domain is skipped).
DEPLOYMENT_HOOKS = ["core.loop.fixes:on_deployment"]


def _run_deployment_hooks(session: Session, deployment: Deployment, progress: Callable[[str], None]) -> None:
    import importlib
    import logging

    for spec in DEPLOYMENT_HOOKS:
        module, func = spec.split(":")
        try:
            fn = getattr(importlib.import_module(module), func)
        except (ImportError, AttributeError):
            continue
        try:
            with session.begin_nested():
                fn(session=session, deployment=deployment, progress=progress)
        except Exception as exc:
            logging.getLogger(__name__).exception("deployment hook %s failed", spec)
            progress(f"note: {spec} failed: {_first_line(exc)}")


class StepFailed(Exception):
    """A release step failed; the message is the one line the page and the CLI show."""


class ReleaseError(Exception):
    """A release or rollback cannot start (nothing was changed)."""


@dataclass
class ReleaseOptions:
    skip_tests: bool = False
    app_url: str | None = None           # default: settings.app_url
    worker_url: str | None = None        # default: http://WORKER_METRICS_HOST:WORKER_METRICS_PORT
    previous_stopped: bool = False       # the operator says no replica of the previous version runs
    test_timeout_seconds: float = 1200.0
    test_args: tuple[str, ...] = ("-q",)
    check_page: bool = True              # render the overview page with AppTest as an admin
    compare_models: bool = True          # alembic check on a scratch database (a few seconds)
    script_location: Path | None = None  # another migrations folder (tests; staging copies)
    state_dir: Path = VAR                # where a restore records the database switch
    repo: Path = ROOT
    http_timeout_seconds: float = 5.0


@dataclass
class ReleaseResult:
    deployment_id: int | None
    status: DeploymentStatus
    version: str
    commit: str | None
    revision_before: str | None
    revision_after: str | None
    steps: list[dict] = field(default_factory=list)
    backup_id: str | None = None
    error: str | None = None
    rollback: dict | None = None
    url: str = ""                        # the live database after the release (changes after a restore)
    duration_seconds: float = 0.0


@contextmanager
def _session(url: str):
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with Session(engine, expire_on_commit=False) as s:
            yield s
            s.commit()
    finally:
        engine.dispose()


def _has_deployments(url: str) -> bool:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return inspect(conn).has_table(Deployment.__tablename__)
    finally:
        engine.dispose()


def _first_line(exc: BaseException | str) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:500]


# ---------------------------------------------------------------------------------------------- steps

def contract_guard(url: str, *, contracting: list[str], version: str, commit: str | None,
                   previous_stopped: bool) -> str:
    """Allow contracting revisions only when no other version runs (by the process heartbeats) or the operator
    says so with --previous-stopped; returns the note for the step log, raises StepFailed naming what runs."""
    from core.releases import heartbeat

    revs = ", ".join(contracting)
    window = f"{heartbeat.FRESH.total_seconds() / 60:.0f} min"
    with _session(url) as s:
        if not heartbeat.has_heartbeats(s):
            if previous_stopped:
                return "contracting allowed by --previous-stopped (no process heartbeats at this revision to check)"
            raise StepFailed(
                f"revision(s) {revs} are contracting (they remove what the running version uses) and this schema "
                "has no process heartbeats yet, so the release cannot see which versions run; release them only "
                "when the previous version has stopped everywhere, then pass --previous-stopped")
        others = heartbeat.other_versions_running(s, commit=commit)
        seen = heartbeat.running_processes(s, within=heartbeat.FRESH)
    if not others:
        return (f"contracting allowed: the heartbeats of the last {window} show only {version} "
                f"({len(seen)} process{'es' if len(seen) != 1 else ''})" if seen else
                f"contracting allowed: no process heartbeat in the last {window}")
    groups: dict[tuple[str, str | None], list[str]] = {}
    for p in others:
        groups.setdefault((p.version, p.commit), []).append(p.describe())

    def label(v: str, c: str | None) -> str:
        # Same describe name, other commit (an untagged build): the commit tells them apart.
        return f"{v} ({(c or 'no commit')[:12]})" if v == version else v

    runs = "; ".join(f"version {label(v, c)} still runs: {', '.join(procs)}" for (v, c), procs in groups.items())
    if previous_stopped:
        return f"contracting allowed by --previous-stopped, although the heartbeats show that {runs}"
    raise StepFailed(
        f"revision(s) {revs} are contracting and {runs}; stop them or wait for the rolling restart to {version}, "
        f"then release again (checked the process heartbeats of the last {window}; "
        "--previous-stopped overrides)")


def run_tests(options: ReleaseOptions) -> str:
    """`pytest -q` in a subprocess, bounded by a timeout; raises StepFailed with the summary line."""
    cmd = [sys.executable, "-m", "pytest", *options.test_args]
    try:
        out = subprocess.run(cmd, cwd=options.repo, capture_output=True, text=True,
                             timeout=options.test_timeout_seconds)
    except subprocess.TimeoutExpired:
        raise StepFailed(f"the tests did not finish within {options.test_timeout_seconds:.0f} s")
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    summary = lines[-1] if lines else f"pytest exited with {out.returncode}"
    if out.returncode != 0:
        raise StepFailed(f"tests failed: {summary}")
    return summary


def check_app_health(app_url: str, timeout: float) -> str:
    """The app's Streamlit health endpoint answers 200 ok."""
    url = app_url.rstrip("/") + "/_stcore/health"
    try:
        r = requests.get(url, timeout=timeout)
    except requests.RequestException as exc:
        raise StepFailed(f"app health check failed: {url} is not reachable ({type(exc).__name__})")
    if r.status_code != 200:
        raise StepFailed(f"app health check failed: {url} answered {r.status_code}")
    return f"{url}: {r.text.strip()[:40] or 'ok'}"


def check_worker_metrics(worker_url: str, timeout: float) -> str:
    """The worker's /metrics answers with the worker's own metrics."""
    url = worker_url.rstrip("/")
    if not url.endswith("/metrics"):
        url += "/metrics"
    try:
        r = requests.get(url, timeout=timeout)
    except requests.RequestException as exc:
        raise StepFailed(f"worker metrics check failed: {url} is not reachable ({type(exc).__name__})")
    if r.status_code != 200:
        raise StepFailed(f"worker metrics check failed: {url} answered {r.status_code}")
    if "aftercare_worker_leader" not in r.text:
        raise StepFailed(f"worker metrics check failed: {url} does not serve aftercare_worker_leader")
    return f"{url}: {len(r.text.splitlines())} lines"


def check_page(url: str) -> str:
    """Render the overview page through app.py as an active admin with AppTest; no exception allowed."""
    import logging

    from streamlit.testing.v1 import AppTest

    # Bare-mode warnings from modules imported outside a script run are noise in the release log.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)

    from core.auth.models import User
    from core.auth.roles import Role

    with _session(url) as s:
        admin = s.scalar(select(User.username).where(User.role == Role.ADMIN, User.active.is_(True))
                         .order_by(User.id).limit(1))
    if admin is None:
        raise StepFailed("page check failed: no active admin user to render the overview as")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = admin
    at.session_state["name"] = admin
    at.session_state["roles"] = [Role.ADMIN.value]
    at.switch_page("pages/overview.py").run()  # one run, straight to the page
    if at.exception:
        raise StepFailed(f"page check failed: the overview raised {_first_line(at.exception[0].value)}")
    if not at.title or at.title[0].value != "Overview":
        raise StepFailed("page check failed: the overview did not render its title")
    return f"overview rendered for {admin} ({len(at.metric)} metrics)"


def smoke_checks(url: str, options: ReleaseOptions) -> str:
    """App health, worker metrics, then a page rendering with data; the first failure stops them."""
    settings = get_settings()
    app_url = options.app_url or settings.app_url
    worker_url = options.worker_url or f"http://{settings.worker_metrics_host}:{settings.worker_metrics_port}"
    done = [check_app_health(app_url, options.http_timeout_seconds),
            check_worker_metrics(worker_url, options.http_timeout_seconds)]
    if options.check_page:
        done.append(check_page(url))
    return "; ".join(done)


def take_backup(url: str, actor: str) -> tuple[str, str]:
    """A pre-deploy backup to every target (core.backups); returns (id, message), raises StepFailed when none is good."""
    from core.backups import dump, storage
    from core.backups.models import RunTrigger

    try:
        targets = storage.parse_targets()
        result = dump.run_backup(url=url, targets=targets, trigger=RunTrigger.SAFETY, actor=actor)
    except Exception as exc:
        raise StepFailed(f"pre-deploy backup failed: {_first_line(exc)}")
    if result.status not in ("succeeded", "partial"):
        raise StepFailed(f"pre-deploy backup failed: {result.error or result.status}")
    note = f" (some targets failed: {result.error})" if result.error else ""
    return result.id, f"backup {result.id}, {result.size_bytes or 0} bytes{note}"


# ------------------------------------------------------------------------------------------- rollback

def undo_schema(*, url: str, actor: str, target: str | None, backup_id: str | None, cfg,
                state_dir: Path, progress: Callable[[str], None]) -> dict:
    """Bring the database at url back to revision target: downgrade when possible, else restore backup_id."""
    start = time.perf_counter()
    current = migrations.current_revision(url)
    if current == target:
        return {"method": "none", "ok": True, "message": f"the schema is still at {target or 'base'}; nothing to undo",
                "target_revision": target, "url": url, "seconds": 0.0}
    blockers = migrations.downgrade_blockers(target, current, cfg)
    downgrade_error = None
    if not blockers:
        progress(f"    rolling back: alembic downgrade {current} -> {target or 'base'}")
        try:
            migrations.downgrade(url, target, cfg)
            now = migrations.current_revision(url)
            if now != target:
                raise RuntimeError(f"the database is at {now} after the downgrade, not {target}")
            return {"method": "downgrade", "ok": True, "from_revision": current, "target_revision": target,
                    "message": f"downgraded {current} -> {target or 'base'}", "url": url,
                    "seconds": round(time.perf_counter() - start, 3)}
        except Exception as exc:
            downgrade_error = _first_line(exc)
            progress(f"    the downgrade failed ({downgrade_error}); restoring the backup instead")
    why = (f"revision(s) {', '.join(blockers)} are irreversible" if blockers
           else f"the downgrade failed: {downgrade_error}")
    if not backup_id:
        return {"method": "none", "ok": False, "target_revision": target, "url": url,
                "message": f"{why}, and there is no pre-deploy backup to restore",
                "seconds": round(time.perf_counter() - start, 3)}
    from core.backups import recover, storage

    progress(f"    rolling back: {why}; restoring pre-deploy backup {backup_id}")
    try:
        res = recover.recover_live(url=url, backup_id=backup_id, confirm=backup_id, targets=storage.parse_targets(),
                                   actor=actor, state_dir=Path(state_dir), progress=lambda m: progress(f"    {m}"))
    except Exception as exc:
        return {"method": "restore", "ok": False, "backup_id": backup_id, "target_revision": target, "url": url,
                "message": f"{why}; restoring backup {backup_id} failed: {_first_line(exc)}",
                "seconds": round(time.perf_counter() - start, 3)}
    from core.backups.restore import url_for

    new_url = url_for(url, res.new_database)
    release_lock.clear_rows(new_url)
    return {"method": "restore", "ok": True, "backup_id": backup_id, "from_revision": current,
            "target_revision": migrations.current_revision(new_url), "new_database": res.new_database,
            "previous_database": res.previous_database, "previous_url": url,
            "safety_backup": res.safety_backup.id if res.safety_backup else None, "url": new_url,
            "message": (f"{why}; restored pre-deploy backup {backup_id} into {res.new_database} and switched the "
                        f"console to it (the upgraded database {res.previous_database} is kept)"),
            "seconds": round(time.perf_counter() - start, 3)}


# -------------------------------------------------------------------------------------------- release

def run_release(*, url: str, actor: str, options: ReleaseOptions | None = None,
                progress: Callable[[str], None] = print) -> ReleaseResult:
    """Run the whole release against the database at url; ReleaseBusy when another release holds the lock."""
    options = options or ReleaseOptions()
    cfg = migrations.alembic_config(url, options.script_location)
    started = time.perf_counter()
    with release_lock.ReleaseLockHandle(url, actor=actor, purpose="release") as held:
        version, commit = git_version(options.repo)
        before = migrations.current_revision(url)
        result = ReleaseResult(None, DeploymentStatus.RUNNING, version, commit, before, before, url=url)
        if _has_deployments(url):
            with _session(url) as s:
                # We hold the lock, so a deployment still marked running belongs to a process that died.
                service.mark_interrupted(session=s)
                result.deployment_id = service.start_deployment(session=s, actor=actor, version=version,
                                                                commit=commit, revision_before=before).id
            held.set_deployment(result.deployment_id)
        progress(f"release {version} ({(commit or '')[:12]}) by {actor}; schema at {before or 'base'}"
                 + (f"; deployment #{result.deployment_id}" if result.deployment_id else ""))

        def step(name: str, fn: Callable[[], object]):
            t0 = time.perf_counter()
            progress(f"==> {name}")
            try:
                value = fn()
            except StepFailed as exc:
                result.steps.append({"step": name, "ok": False, "message": str(exc),
                                     "seconds": round(time.perf_counter() - t0, 3)})
                progress(f"    FAILED: {exc}")
                raise
            except Exception as exc:
                msg = f"{name} failed: {_first_line(exc)}"
                result.steps.append({"step": name, "ok": False, "message": msg,
                                     "seconds": round(time.perf_counter() - t0, 3)})
                progress(f"    FAILED: {msg}")
                raise StepFailed(msg) from exc
            message = value[1] if isinstance(value, tuple) else str(value)
            result.steps.append({"step": name, "ok": True, "message": message,
                                 "seconds": round(time.perf_counter() - t0, 3)})
            progress(f"    ok: {message}")
            return value

        try:
            if options.skip_tests:
                result.steps.append({"step": "tests", "ok": True, "message": "skipped (--skip-tests)", "seconds": 0})
                progress("==> tests\n    skipped (--skip-tests)")
            else:
                step("tests", lambda: run_tests(options))

            def check():
                mc = migrations.check_migrations(url, cfg, compare_models=options.compare_models)
                if not mc.ok:
                    raise StepFailed(mc.error)
                if not mc.contracting:
                    return mc.summary()
                return mc.summary() + "; " + contract_guard(url, contracting=mc.contracting, version=version,
                                                            commit=commit, previous_stopped=options.previous_stopped)

            step("migrations", check)
            backup = step("backup", lambda: take_backup(url, actor))
            result.backup_id = backup[0]
            step("upgrade", lambda: (migrations.upgrade(url, cfg),
                                     f"{before or 'base'} -> {migrations.current_revision(url)}")[1])
            result.revision_after = migrations.current_revision(url)
            step("smoke", lambda: smoke_checks(url, options))
            result.status = DeploymentStatus.SUCCEEDED
        except StepFailed as exc:
            result.error = str(exc)
            result.rollback = undo_schema(url=url, actor=actor, target=before, backup_id=result.backup_id, cfg=cfg,
                                          state_dir=options.state_dir, progress=progress)
            changed = result.rollback["method"] != "none"
            result.status = (DeploymentStatus.ROLLED_BACK if changed and result.rollback["ok"]
                             else DeploymentStatus.FAILED)
            result.url = result.rollback.get("url", url)
            result.revision_after = migrations.current_revision(result.url)
            progress(f"==> rollback\n    {'ok' if result.rollback['ok'] else 'FAILED'}: {result.rollback['message']}")
        except BaseException as exc:
            # Interrupted (Ctrl-C, SIGTERM) or a bug outside the steps: undo what we can, record, re-raise.
            result.error = f"interrupted: {type(exc).__name__}: {_first_line(exc)}"
            result.status = DeploymentStatus.FAILED
            try:
                result.rollback = undo_schema(url=url, actor=actor, target=before, backup_id=result.backup_id,
                                              cfg=cfg, state_dir=options.state_dir, progress=progress)
                result.url = result.rollback.get("url", url)
                result.revision_after = migrations.current_revision(result.url)
            finally:
                result.duration_seconds = time.perf_counter() - started
                _record(result, actor=actor, progress=progress)
            raise
        result.duration_seconds = time.perf_counter() - started
        _record(result, actor=actor, progress=progress)
    progress(f"release {result.status.value} in {result.duration_seconds:.1f} s"
             + (f": {result.error}" if result.error else ""))
    return result


def _record(result: ReleaseResult, *, actor: str, progress: Callable[[str], None]) -> None:
    from core.backups.recover import writable_url

    # After a restore the previous (upgraded) database is kept read-only; the record is the one write it takes.
    urls = [result.url] + ([writable_url(u) for u in [result.rollback.get("previous_url")] if u]
                           if result.rollback else [])
    for u in urls:
        if not _has_deployments(u):
            progress(f"note: the deployment was not recorded: {u.rsplit('/', 1)[-1]} has no deployments table "
                     "at this revision")
            continue
        with _session(u) as s:
            dep = service.finish_deployment(
                session=s, actor=actor, deployment_id=result.deployment_id, status=result.status,
                steps=result.steps, revision_after=result.revision_after, duration_seconds=result.duration_seconds,
                backup_id=result.backup_id, error=result.error, rollback=result.rollback, version=result.version,
                commit=result.commit, revision_before=result.revision_before)
            result.deployment_id = dep.id
            _run_deployment_hooks(s, dep, progress)


# ------------------------------------------------------------------------------------------- rollback

def run_rollback(*, url: str, actor: str, script_location: Path | None = None, state_dir: Path = VAR,
                 progress: Callable[[str], None] = print) -> dict:
    """`release rollback`: take the schema back to the revision before the newest succeeded deployment."""
    cfg = migrations.alembic_config(url, script_location)
    with release_lock.ReleaseLockHandle(url, actor=actor, purpose="release rollback"):
        if not _has_deployments(url):
            raise ReleaseError("no deployments are recorded in this database; nothing to roll back")
        with _session(url) as s:
            latest = service.last_succeeded(s)
            if latest is None:
                raise ReleaseError("no succeeded deployment to roll back")
            previous = s.scalar(select(Deployment).where(Deployment.status == DeploymentStatus.SUCCEEDED.value,
                                                         Deployment.id < latest.id)
                                .order_by(Deployment.id.desc()).limit(1))
            dep_id, target, backup_id, version = latest.id, latest.revision_before, latest.backup_id, latest.version
            prev_version = previous.version if previous else None
        progress(f"rolling back deployment #{dep_id} ({version}): schema back to {target or 'base'}")
        outcome = undo_schema(url=url, actor=actor, target=target, backup_id=backup_id, cfg=cfg,
                              state_dir=state_dir, progress=progress)
        outcome["via"] = "release rollback"
        outcome["previous_version"] = prev_version
        live = outcome.get("url", url)
        if outcome["ok"] and _has_deployments(live):
            with _session(live) as s:
                dep = service.mark_rolled_back(session=s, actor=actor, deployment_id=dep_id, rollback=outcome)
                _run_deployment_hooks(s, dep, progress)
        progress(("ok: " if outcome["ok"] else "FAILED: ") + outcome["message"])
        if outcome["ok"] and prev_version:
            progress(f"now deploy the code of {prev_version} (the previous deployment) on every replica")
        return outcome
