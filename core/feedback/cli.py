"""`python -m core feedback ...` (import, kpis, themes) and `python -m core accounts import`."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path


def register(sub) -> None:
    fb = sub.add_parser("feedback", help="ratings, NPS and CSAT: import, measures, themes")
    fbs = fb.add_subparsers(dest="command", metavar="<command>")
    p = fbs.add_parser("import", help="import feedback items from JSONL (idempotent on external_id)")
    p.add_argument("file", type=Path)
    p.set_defaults(func=_import_feedback)
    p = fbs.add_parser("kpis", help="print the feedback KPIs as JSON")
    _period_args(p)
    p.set_defaults(func=_kpis)
    p = fbs.add_parser("themes", help="print comment themes (grouped by similarity) with counts")
    _period_args(p)
    p.set_defaults(func=_themes)

    acc = sub.add_parser("accounts", help="customer accounts and their subscriptions")
    accs = acc.add_subparsers(dest="command", metavar="<command>")
    p = accs.add_parser("import", help="import accounts and subscription events from JSONL (idempotent)")
    p.add_argument("file", type=Path)
    p.set_defaults(func=_import_accounts)


def _period_args(p) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--month", help="a calendar month, YYYY-MM")
    g.add_argument("--days", type=int, default=30, help="the last N days (default 30)")


def period(month: str | None, days: int | None, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[start, end) of --month YYYY-MM or of the last --days N."""
    from core.cli import CLIError

    now = now or datetime.now(timezone.utc)
    if month:
        try:
            start = datetime.strptime(month, "%Y-%m").replace(tzinfo=timezone.utc)
        except ValueError:
            raise CLIError(f"--month: {month!r} is not YYYY-MM") from None
        end = (start + timedelta(days=32)).replace(day=1)
        return start, end
    if days is None or days < 1:
        raise CLIError("--days: a whole number of 1 or more")
    return now - timedelta(days=days), now


def _run_import(args, func, noun: str) -> int:
    from core.cli import CLIError
    from core.db import session_scope
    from core.feedback.service import FeedbackError

    if not args.file.is_file():
        raise CLIError(f"no such file: {args.file}")
    try:
        with session_scope() as s:
            result = func(session=s, path=args.file)
    except FeedbackError as exc:
        raise CLIError(str(exc)) from exc
    for error in result.errors:
        print(error)
    print(result.summary(noun))
    return 1 if result.errors else 0


def _import_feedback(args) -> int:
    from core.feedback.imports import import_feedback

    return _run_import(args, import_feedback, "feedback items")


def _import_accounts(args) -> int:
    from core.feedback.imports import import_accounts

    return _run_import(args, import_accounts, "accounts")


def _kpis(args) -> int:
    from core.db import session_scope
    from core.feedback.measures import feedback_kpis

    start, end = period(args.month, args.days)
    with session_scope() as s:
        kpis = {k: v for k, v in feedback_kpis(session=s, start=start, end=end).items() if not k.startswith("_")}
    print(json.dumps({"start": start.isoformat(), "end": end.isoformat(), **kpis}, default=str))
    return 0


def _themes(args) -> int:
    from core.db import session_scope
    from core.feedback.themes import comment_themes

    start, end = period(args.month, args.days)
    with session_scope() as s:
        themes = comment_themes(session=s, start=start, end=end)
    if not themes:
        print("not enough comments to find themes")
        return 0
    print(f"{'count':>5}  {'trend':<8} theme")
    for t in themes:
        print(f"{t['count']:>5}  {t['trend']:<8} {t['name']}")
    return 0
