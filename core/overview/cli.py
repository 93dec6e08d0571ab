"""`python -m core metrics --json [--month YYYY-MM | --days N]`: every overview KPI as one JSON object."""

from __future__ import annotations

import json
import sys


def register(sub) -> None:
    p = sub.add_parser("metrics", help="print every overview KPI (JSON with --json)",
                       description="Every overview KPI for a calendar month or the last N days. Churn is monthly: "
                                   "for --month that month; for --days the average of the complete calendar months "
                                   "in the window (the latest complete month when it holds none).")
    p.add_argument("--json", action="store_true", help="one JSON object (shares are fractions 0..1, null = no data)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--month", help="a calendar month, YYYY-MM")
    g.add_argument("--days", type=int, default=30, help="the last N days (default 30)")
    p.set_defaults(func=_metrics)


def _check_database() -> None:
    """CLIError naming the server when the database cannot be reached or is not migrated."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from core.cli import CLIError
    from core.db import session_scope
    from core.db.session import database_url

    try:
        url = database_url()
        where = make_url(url).render_as_string(hide_password=True)
        with session_scope(url) as s:
            migrated = s.execute(text("SELECT to_regclass('public.tickets') IS NOT NULL "
                                      "AND to_regclass('public.alembic_version') IS NOT NULL")).scalar()
    except (SQLAlchemyError, OSError, RuntimeError) as exc:
        reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise CLIError(f"cannot reach the database: {reason}") from None
    if not migrated:
        raise CLIError(f"the database {where} has no Aftercare tables: run `python -m core db upgrade` first")


def _metrics(args) -> int:
    from core.cli import CLIError
    from core.db import session_scope
    from core.overview.kpis import CONTRACT_KEYS, TARGETS, collect, format_value, period

    if args.days is not None and args.days < 1 and not args.month:
        raise CLIError(f"--days must be 1 or more, not {args.days}")
    try:
        start, end = period(days=args.days, month=args.month)
    except ValueError as exc:
        raise CLIError(str(exc)) from exc
    _check_database()
    failures: list[str] = []
    with session_scope() as s:
        values, reasons = collect(session=s, start=start, end=end, failures=failures)
    for key in (*CONTRACT_KEYS, *(t.key for t in TARGETS)):
        values.setdefault(key, None)
    if args.json:
        print(json.dumps({"start": start.isoformat(), "end": end.isoformat(), **values}, default=str, sort_keys=True))
    else:
        print(f"KPIs from {start:%Y-%m-%d} to {end:%Y-%m-%d}")
        for t in TARGETS:
            v = values.get(t.key)
            print(f"  {t.label:<28} {format_value(t.unit, v):>14}" + (f"   ({reasons.get(t.key)})" if v is None else ""))
    for failure in failures:
        print(f"error: KPI provider {failure}", file=sys.stderr)
    return 1 if failures else 0
