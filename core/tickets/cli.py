"""`python -m core tickets ...`: import tickets from JSONL or CSV."""

from __future__ import annotations


def register(sub) -> None:
    t = sub.add_parser("tickets", help="tickets: import")
    ts = t.add_subparsers(dest="command", metavar="<command>")
    p = ts.add_parser("import", help="import tickets from a .jsonl or .csv file (idempotent on external_id)")
    p.add_argument("file")
    p.set_defaults(func=_import)


def _import(args) -> int:
    from core.cli import CLIError
    from core.tickets.imports import import_file

    try:
        report = import_file(args.file)
    except FileNotFoundError as exc:
        raise CLIError(str(exc)) from exc
    for line in report.lines():
        print(line)
    return 1 if report.errors and not report.imported else 0
