"""`python -m core demo ...`: seed demo data; other demo commands come from DEMO_MODULES."""

from __future__ import annotations

import importlib

# Modules that add demo subcommands: each defines register_demo(demo_subparsers).
DEMO_MODULES = [
    "core.monitoring.traffic",
]


def register(sub) -> None:
    demo = sub.add_parser("demo", help="demo data and demo traffic")
    ds = demo.add_subparsers(dest="command", metavar="<command>")
    p = ds.add_parser("seed", help="load realistic demo data (deterministic for a seed)")
    p.add_argument("--tickets", type=int, default=3000)
    p.add_argument("--days", type=int, default=120)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--if-empty", action="store_true", help="do nothing when the database already has tickets")
    p.set_defaults(func=_seed)
    for name in DEMO_MODULES:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        mod.register_demo(ds)


def _seed(args) -> int:
    from core.demo import seed

    from core.cli import CLIError

    try:
        summary = seed.run(tickets=args.tickets, days=args.days, seed=args.seed, if_empty=args.if_empty)
    except seed.SeedError as exc:
        raise CLIError(str(exc)) from exc
    print(summary)
    return 0
