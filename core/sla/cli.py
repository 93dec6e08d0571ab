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
    p = ss.add_parser("backfill", help="compute the SLA rows of tickets that have none (e.g. after an import)")
    p.set_defaults(func=_backfill)


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


def _backfill(args) -> int:
    from sqlalchemy import select

    from core.db import session_scope
    from core.sla.models import TicketSla
    from core.sla.service import load_policy_set, refresh_many
    from core.tickets.models import Ticket

    done = 0
    with session_scope() as s:
        ids = list(s.scalars(select(Ticket.id).where(~Ticket.id.in_(select(TicketSla.ticket_id))).order_by(Ticket.id)))
        policies = load_policy_set(session=s)
        for i in range(0, len(ids), 2000):
            done += refresh_many(session=s, ticket_ids=ids[i:i + 2000], policies=policies)
    print(f"computed SLA clocks for {done} ticket(s)")
    return 0
