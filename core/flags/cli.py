"""`python -m core flags ...`: run Unleash specification files, export and import flags."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def register(sub) -> None:
    flags = sub.add_parser("flags", help="feature flags: specification checks, export, import")
    fs = flags.add_subparsers(dest="command", metavar="<command>")

    p = fs.add_parser("spec", help="run Unleash client-specification files (tests and variantTests)")
    p.add_argument("files", nargs="+", metavar="FILE", help="specification JSON files")
    p.set_defaults(func=_spec)

    p = fs.add_parser("export", help="print the flags of an environment in Unleash's client API JSON format")
    p.add_argument("--environment", "-e", default="production", help="development or production")
    p.add_argument("--output", "-o", help="write to this file instead of standard output")
    p.set_defaults(func=_export)

    p = fs.add_parser("import", help="create or update flags from Unleash client API JSON (features and segments)")
    p.add_argument("file", help="a JSON file, or - for standard input")
    p.add_argument("--environment", "-e", default="production", help="development or production")
    p.add_argument("--actor", default="admin", help="username recorded as the author of the change")
    p.add_argument("--reason", default="import", help="why (kept in each flag's history)")
    p.set_defaults(func=_import)


def _spec(args) -> int:
    from core.cli import CLIError
    from core.flags.evaluator import check_spec, spec_counts

    passed = failed = 0
    for name in args.files:
        path = Path(name)
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
            failures = check_spec(spec)
            total = spec_counts(spec)
        except FileNotFoundError:
            raise CLIError(f"{name}: no such file") from None
        except (ValueError, KeyError, TypeError) as exc:
            print(f"{path.name}: cannot run: {exc}")
            failed += 1
            continue
        for description, expected, got in failures:
            print(f"FAIL {path.name}: {description}: expected {json.dumps(expected)}, got {json.dumps(got)}")
        ok = total - len(failures)
        passed += ok
        failed += len(failures)
        print(f"{path.name}: {ok} passed, {len(failures)} failed")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def _export(args) -> int:
    from core.db import session_scope
    from core.flags import service

    with session_scope() as s:
        state = service.client_state(session=s, environment=args.environment)
    text = json.dumps(state, indent=2, ensure_ascii=False)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
        print(f"{len(state['features'])} flags written to {args.output}")
    else:
        print(text)
    return 0


def _import(args) -> int:
    from sqlalchemy import select

    from core.auth.models import User
    from core.cli import CLIError
    from core.db import session_scope
    from core.flags import service

    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    try:
        state = json.loads(text)
    except ValueError as exc:
        raise CLIError(f"not JSON: {exc}") from None
    with session_scope() as s:
        actor = s.scalar(select(User).where(User.username == args.actor))
        if actor is None:
            raise CLIError(f"no user {args.actor!r}")
        try:
            summary = service.import_state(session=s, actor=actor, state=state, environment=args.environment,
                                           reason=args.reason)
        except service.FlagError as exc:
            raise CLIError(str(exc)) from None
    print(summary)
    return 0
