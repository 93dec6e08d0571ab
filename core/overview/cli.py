"""`python -m core metrics --json [--month YYYY-MM | --days N]`: every overview KPI as one JSON object."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("metrics", help="print every overview KPI (JSON with --json)")
    p.add_argument("--json", action="store_true", help="one JSON object (shares are fractions 0..1)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--month", help="a calendar month, YYYY-MM")
    g.add_argument("--days", type=int, default=30, help="the last N days (default 30)")
    p.set_defaults(func=_metrics)


def _metrics(args) -> int:
    from core.cli import CLIError
    from core.db import session_scope
    from core.overview.kpis import TARGETS, collect, format_value, period

    try:
        start, end = period(days=args.days, month=args.month)
    except ValueError as exc:
        raise CLIError(str(exc)) from exc
    with session_scope() as s:
        values, reasons = collect(session=s, start=start, end=end)
    for t in TARGETS:
        values.setdefault(t.key, None)
    if args.json:
        print(json.dumps({"start": start.isoformat(), "end": end.isoformat(), **values}, default=str, sort_keys=True))
        return 0
    print(f"KPIs from {start:%Y-%m-%d} to {end:%Y-%m-%d}")
    for t in TARGETS:
        v = values.get(t.key)
        print(f"  {t.label:<28} {format_value(t.unit, v):>14}" + (f"   ({reasons.get(t.key)})" if v is None else ""))
    return 0
