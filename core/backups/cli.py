"""`python -m core backup ...` and `python -m core restore ...`: the backup contract, usable when the console is down."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from core.cli import CLIError


def register(sub) -> None:
    b = sub.add_parser("backup", help="backups: run, list, verify, prune")
    bs = b.add_subparsers(dest="command", metavar="<command>")
    p = bs.add_parser("run", help="back up the database now to every target in BACKUP_TARGETS, then verify "
                                  "each stored copy")
    p.set_defaults(func=_run)
    p = bs.add_parser("list", help="backups with their per-target copies and verification state")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--from-targets", action="store_true",
                   help="read the manifests in the targets instead of the database (when the database is down)")
    p.set_defaults(func=_list)
    p = bs.add_parser("verify", help="download each copy again, compare its sha256, check it with pg_restore --list")
    p.add_argument("backup_id")
    p.set_defaults(func=_verify)
    p = bs.add_parser("prune", help="delete backups outside the retention policy (per target)")
    p.add_argument("--dry-run", action="store_true", help="only list what would be deleted")
    p.add_argument("--daily", type=int, default=30)
    p.add_argument("--weekly", type=int, default=8)
    p.add_argument("--monthly", type=int, default=12)
    p.set_defaults(func=_prune)

    r = sub.add_parser("restore", help="restore a backup into a new database, run a drill, or recover the live database",
                       description="`restore BACKUP_ID --into DBNAME`, `restore drill`, or "
                                   "`restore BACKUP_ID --live` (recover the live database).")
    r.add_argument("backup_id", metavar="BACKUP_ID|drill", help="a backup id (see `backup list`), or `drill`")
    r.add_argument("--into", metavar="DBNAME", help="the new database to create (must not exist)")
    r.add_argument("--live", action="store_true",
                   help="recover the live database: safety backup, restore into a new database, verify, switch")
    r.add_argument("--confirm", metavar="BACKUP_ID", help="with --live: the backup id again, to confirm")
    r.add_argument("--no-safety-backup", action="store_true",
                   help="with --live: skip the safety backup (when the live database is gone)")
    r.add_argument("--json", action="store_true", help="print the report as JSON")
    r.add_argument("--state-dir", default=None, help=argparse.SUPPRESS)  # where the switch file goes (tests)
    r.set_defaults(func=_restore)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


def _setup():
    from core.backups import storage
    from core.backups.storage import StorageError
    from core.db import database_url

    try:
        return database_url(), storage.parse_targets()
    except StorageError as exc:
        raise CLIError(str(exc)) from exc


def _human(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _run(args) -> int:
    from core.backups import dump, verify
    from core.backups.models import RunStatus, RunTrigger

    url, targets = _setup()
    try:
        result = verify.backup_and_verify(url=url, targets=targets, trigger=RunTrigger.CLI, actor=_actor())
    except (dump.BackupError, verify.VerifyError) as exc:
        raise CLIError(str(exc)) from exc
    for o in result.retried:
        print(f"retried {o.target}: {'ok' if o.ok else 'FAILED: ' + (o.error or '')}")
    print(f"backup {result.id}: {result.status}")
    print(f"size    {result.size_bytes if result.size_bytes is not None else '-'} bytes ({_human(result.size_bytes)})")
    print(f"sha256  {result.sha256 or '-'}")
    for o in result.outcomes:
        print(f"target  {o.target}: {'ok' if o.ok else 'FAILED: ' + (o.error or '')}")
    for v in result.verifications:
        print(f"verify  {v.target}: {_verdict(v)}")
    if result.status == RunStatus.FAILED and not result.outcomes:
        print(f"error   {result.error}", file=sys.stderr)
    return 0 if result.ok and result.verified_ok else 1


def _verdict(outcome) -> str:
    return "ok (checksum and archive)" if outcome.ok else "FAILED: " + (outcome.error or "")


def _list(args) -> int:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    if args.from_targets:
        return _list_targets(args)
    from core.backups import queries
    from core.db import session_scope

    url, _ = _setup()
    try:
        with session_scope(url) as s:
            rows = queries.list_backups(s)
    except (OperationalError, ProgrammingError) as exc:
        print(f"the database is not reachable ({str(exc.orig).strip().splitlines()[0]}); "
              "listing the manifests in the targets instead", file=sys.stderr)
        return _list_targets(args)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    if not rows:
        print("no backups yet: run `python -m core backup run`")
        return 0
    print(f"{'id':<24} {'status':<10} {'size':>10}  {'verification':<12} targets")
    for r in rows:
        copies = ", ".join(f"{c['target']}={c['status']}" for c in r["copies"]) or (r["error"] or "-")
        print(f"{r['id']:<24} {r['status']:<10} {_human(r['size_bytes']):>10}  {r['verification']:<12} {copies}")
    return 0


def _list_targets(args) -> int:
    from core.backups.manifest import Manifest, manifest_key
    from core.backups.storage import StorageError

    _, targets = _setup()
    found: dict[str, dict] = {}
    for t in targets:
        try:
            ids = t.backup_ids()
        except StorageError as exc:
            print(f"warning: {exc}", file=sys.stderr)
            continue
        for bid in ids:
            entry = found.setdefault(bid, {"id": bid, "targets": []})
            entry["targets"].append(t.name)
            if "sha256" not in entry:
                try:
                    m = Manifest.from_json(t.get_bytes(manifest_key(bid)))
                    entry.update(size_bytes=m.size_bytes, sha256=m.sha256, alembic_revision=m.alembic_revision,
                                 started_at=m.started_at)
                except (StorageError, ValueError):
                    pass
    rows = sorted(found.values(), key=lambda e: e["id"], reverse=True)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(f"{r['id']:<24} {_human(r.get('size_bytes')):>10}  {', '.join(r['targets'])}")
    return 0


def _verify(args) -> int:
    from core.backups import verify

    url, targets = _setup()
    try:
        outcomes = verify.verify_backup(url=url, backup_id=args.backup_id, targets=targets, actor=_actor())
    except verify.VerifyError as exc:
        raise CLIError(str(exc)) from exc
    for o in outcomes:
        print(f"{o.target}: {_verdict(o)}")
    return 0 if all(o.ok for o in outcomes) else 1


def _prune(args) -> int:
    from core.backups import retention

    url, targets = _setup()
    policy = retention.Policy(daily=args.daily, weekly=args.weekly, monthly=args.monthly)
    print(f"policy: {policy.describe()}")
    plans = retention.prune(url=url, targets=targets, dry_run=args.dry_run, policy=policy)
    failed = False
    for p in plans:
        verb = "would delete" if args.dry_run else "deleted"
        gone = p.delete if args.dry_run else p.deleted
        print(f"{p.target}: keep {len(p.keep)}, {verb} {len(gone)}")
        for bid in gone:
            print(f"  {verb} {bid}")
        for err in p.errors:
            failed = True
            print(f"  error: {err}", file=sys.stderr)
    return 1 if failed else 0


def _print_report(report, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.as_dict(), indent=2, default=str))
        return
    for note in report.skipped_targets:
        print(f"skipped {note}")
    print(f"restored {report.backup_id} from {report.target} into {report.into} in {report.duration_seconds:.1f}s")
    for c in report.checks:
        print(f"  {'ok ' if c.ok else 'BAD'} {c.name}: expected {c.expected}, found {c.actual}")
    print("verification: " + ("all checks match the manifest" if report.ok else "MISMATCH"))


def _restore(args) -> int:
    from core.backups import drill, recover, restore

    url, targets = _setup()
    try:
        if args.backup_id == "drill":
            report = drill.run_drill(url=url, targets=targets, actor=_actor())
            _print_report(report, args.json)
            print(f"drill {'passed' if report.ok else 'FAILED'}; scratch database {report.into} dropped")
            return 0 if report.ok else 1
        if args.live:
            confirm = args.confirm
            if confirm is None:
                if not sys.stdin.isatty():
                    raise CLIError("--live needs --confirm BACKUP_ID (the backup id typed again)")
                confirm = input(f"Recovering the live database from {args.backup_id}. Type the backup id to confirm: ")
            result = recover.recover_live(url=url, backup_id=args.backup_id, confirm=confirm, targets=targets,
                                          actor=_actor(), new_database=args.into,
                                          safety_backup=not args.no_safety_backup, progress=print,
                                          **({"state_dir": Path(args.state_dir)} if args.state_dir else {}))
            _print_report(result.report, args.json)
            for warning in result.audit_warnings:
                print(f"warning: {warning}", file=sys.stderr)
            print(f"the console now uses {result.new_database} (was {result.previous_database}, now read-only); "
                  "the app and the worker follow by themselves with their next database session")
            return 0
        if not args.into:
            raise CLIError("say where to restore: --into DBNAME (a new database), or --live to recover")
        report = restore.restore_backup(url=url, backup_id=args.backup_id, into=args.into, targets=targets,
                                        actor=_actor())
    except (restore.RestoreError, recover.RecoverError) as exc:
        raise CLIError(str(exc)) from exc
    _print_report(report, args.json)
    return 0 if report.ok else 1
