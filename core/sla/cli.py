"""`python -m core sla ...`: compute clocks from JSONL scenarios, run the sweep once."""

from __future__ import annotations

import sys


def register(sub) -> None:
    sla = sub.add_parser("sla", help="SLA clocks, policies and the breach sweep")
    ss = sla.add_subparsers(dest="command", metavar="<command>")
    p = ss.add_parser("compute", help="read JSONL scenarios on stdin, write one JSONL result per line (docs/sla.md)")
    p.set_defaults(func=_compute)
    p = ss.add_parser("sweep", help="run the SLA sweep once against the configured database")
    p.set_defaults(func=_sweep)


def _compute(args) -> int:
    from core.sla.scenario import answer_lines

    for out in answer_lines(sys.stdin):
        sys.stdout.write(out + "\n")
        sys.stdout.flush()
    return 0


def _sweep(args) -> int:
    from core.sla.sweep import run_sweep

    print(run_sweep())
    return 0
