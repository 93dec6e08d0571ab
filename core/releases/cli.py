"""`python -m core release [...]`, `python -m core release rollback` and `python -m core changelog`."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

from core.cli import CLIError


def register(sub) -> None:
    r = sub.add_parser("release", help="deploy: tests, migration checks, backup, upgrade, smoke checks; rollback",
                       description="Run the release pipeline against the configured database, or "
                                   "`release rollback` to return to the previous deployment's revision.")
    r.add_argument("--skip-tests", action="store_true", help="do not run the test suite first")
    r.add_argument("--app-url", metavar="URL", help="the app to health-check (default: APP_URL)")
    r.add_argument("--worker-url", metavar="URL",
                   help="the worker's metrics server (default: http://WORKER_METRICS_HOST:WORKER_METRICS_PORT)")
    r.add_argument("--previous-stopped", action="store_true",
                   help="allow contracting migrations although the process heartbeats show another version "
                        "running (or there are none to read yet)")
    r.add_argument("--test-timeout", type=float, default=1200, metavar="SECONDS",
                   help="stop the tests after this long (default 1200)")
    r.add_argument("--no-model-check", action="store_true",
                   help="skip `alembic check` on a scratch database (when the database user may not CREATE DATABASE)")
    r.add_argument("--no-page-check", action="store_true", help="skip rendering the overview page with AppTest")
    r.add_argument("--json", action="store_true", help="print the outcome as JSON at the end")
    r.set_defaults(func=_release)
    rs = r.add_subparsers(dest="command", metavar="<command>")
    p = rs.add_parser("rollback", help="return the schema to the revision before the newest succeeded deployment")
    p.set_defaults(func=_rollback)
    p = rs.add_parser("status", help="the current version, migration state, running versions and the latest deployments")
    p.add_argument("--limit", type=int, default=10)
    p.set_defaults(func=_status)

    c = sub.add_parser("changelog", help="write CHANGELOG.md from the Conventional Commits in git history")
    c.add_argument("--output", metavar="PATH", help="where to write (default: CHANGELOG.md in the repository)")
    c.add_argument("--repo", metavar="PATH", help="the git repository (default: this checkout)")
    c.add_argument("--stdout", action="store_true", help="print instead of writing a file")
    c.set_defaults(func=_changelog)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


def _release(args) -> int:
    from core.db import database_url
    from core.releases import pipeline
    from core.releases.lock import ReleaseBusy
    from core.releases.models import DeploymentStatus

    opts = pipeline.ReleaseOptions(skip_tests=args.skip_tests, app_url=args.app_url, worker_url=args.worker_url,
                                   previous_stopped=args.previous_stopped, test_timeout_seconds=args.test_timeout,
                                   check_page=not args.no_page_check, compare_models=not args.no_model_check)
    try:
        result = pipeline.run_release(url=database_url(), actor=_actor(), options=opts)
    except ReleaseBusy as exc:
        raise CLIError(f"release refused: {exc}") from exc
    if args.json:
        print(json.dumps({"deployment_id": result.deployment_id, "status": result.status.value,
                          "version": result.version, "commit": result.commit,
                          "revision_before": result.revision_before, "revision_after": result.revision_after,
                          "backup_id": result.backup_id, "error": result.error, "rollback": result.rollback,
                          "steps": result.steps, "duration_seconds": round(result.duration_seconds, 3)}, indent=2))
    if result.rollback and result.rollback.get("method") == "restore" and result.rollback.get("ok"):
        print(f"the console now uses {result.rollback['new_database']}: restart the app and the worker")
    return 0 if result.status == DeploymentStatus.SUCCEEDED else 1


def _rollback(args) -> int:
    from core.db import database_url
    from core.releases import pipeline
    from core.releases.lock import ReleaseBusy

    try:
        outcome = pipeline.run_rollback(url=database_url(), actor=_actor())
    except ReleaseBusy as exc:
        raise CLIError(f"rollback refused: {exc}") from exc
    except pipeline.ReleaseError as exc:
        raise CLIError(str(exc)) from exc
    return 0 if outcome["ok"] else 1


def _status(args) -> int:
    from core.db import database_url, session_scope
    from core.releases import queries

    url = database_url()
    print(f"code version: {queries.code_version()}")
    state = queries.migration_state(url)
    print(f"schema: {state['current'] or 'base'} (head {state['head']}); "
          f"pending: {', '.join(state['pending']) or 'none'}")
    with session_scope() as s:
        running = queries.running_versions(s)
        rows = queries.deployments(s, limit=args.limit)
    if running is not None:
        from core.releases.heartbeat import ago

        print(f"running: {len(running)} process(es)" + (":" if running else ""))
        for p in running:
            print(f"  {p['kind']} on {p['host']} pid {p['pid']}: {p['version']} ({p['commit'] or 'no commit'}), "
                  f"seen {ago(p['seconds_ago'])}" + ("" if p["fresh"] else " (stale)"))
    if rows is None:
        print("no deployments table at this revision")
        return 0
    for d in rows:
        dur = f"{d['duration_seconds']:.1f} s" if d["duration_seconds"] is not None else "-"
        print(f"#{d['id']} {d['started_at']:%Y-%m-%d %H:%M} {d['version']} {d['status']} {dur} by {d['actor']}"
              + (f": {d['error']}" if d["error"] else ""))
    return 0


def _changelog(args) -> int:
    from core.releases import changelog

    repo = Path(args.repo) if args.repo else None
    try:
        if args.stdout:
            print(changelog.generate(repo or changelog.ROOT), end="")
            return 0
        path = changelog.write(repo or changelog.ROOT, Path(args.output) if args.output else None)
    except changelog.ChangelogError as exc:
        raise CLIError(str(exc)) from exc
    print(f"wrote {path}")
    return 0
