"""`python -m core bench <name>`: speed benchmarks, one module per domain.

Each module listed in BENCH_MODULES defines NAME, HELP, add_arguments(parser) and run(args) -> int,
and prints its own table. Benchmarks measure; tests never time anything.
"""

from __future__ import annotations

import importlib

BENCH_MODULES = [
    "core.sla.bench",
    "core.tickets.bench_classify",
    "core.backups.bench",
    "core.flags.bench",
    "core.feedback.bench",
    "core.ui.bench_pages",
]


def register(sub) -> None:
    bench = sub.add_parser("bench", help="speed benchmarks (classify, sla, flags, backup, pages)")
    bs = bench.add_subparsers(dest="command", metavar="<benchmark>")
    for name in BENCH_MODULES:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        p = bs.add_parser(mod.NAME, help=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(func=mod.run)
