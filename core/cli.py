"""The CLI's spine: each domain contributes a `register(subparsers)` in its own cli module."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from sqlalchemy.exc import OperationalError

# One line per domain; each module defines register(subparsers) that adds its group(s) and
# sets `func` on every leaf parser. Order is the order of `--help`.
GROUP_MODULES = [
    "core.db.cli",
    "core.auth.cli",
    "core.tickets.cli",
    "core.tickets.classify_cli",
    "core.demo.cli",
    "core.worker_cli",
    "core.sla.cli",
    "core.feedback.cli",
    "core.backups.cli",
    "core.bench",
    "core.overview.cli",
    "core.launcher",
    "core.flags.cli",
    "core.channels.cli",
    "core.monitoring.cli",
    "core.releases.cli",
    "core.loop.cli",
]


class CLIError(Exception):
    """A user-facing failure: printed without a traceback, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="Aftercare: the post-sales console.")
    sub = parser.add_subparsers(dest="group", metavar="<group>")
    for name in GROUP_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        # A group without a command: show that group's help.
        parser.parse_args([*(argv if argv is not None else sys.argv[1:]), "--help"])
        return 2
    try:
        result = func(args)
    except CLIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except OperationalError as exc:  # the database is down or refuses us: one line naming it, no traceback
        print(f"error: {_database_error(exc)}", file=sys.stderr)
        return 2
    return int(result or 0)


def _database_error(exc: Exception) -> str:
    from sqlalchemy.engine import make_url

    from core.db.session import database_url

    try:
        url = make_url(database_url())
        where = f"{url.host or url.query.get('host') or 'local socket'}:{url.port or 5432}/{url.database}"
    except Exception:  # noqa: BLE001 - the message is what matters
        where = "the configured server"
    text = str(getattr(exc, "orig", None) or exc).strip()
    reason = text.splitlines()[0] if text else type(exc).__name__
    return f"cannot reach PostgreSQL at {where}: {reason} (check DATABASE_URL)"
