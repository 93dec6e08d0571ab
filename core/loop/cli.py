"""`python -m core loop ...`: what a release did to tickets, who was told about a roadmap item, the most used macros."""

from __future__ import annotations

import json


def register(sub) -> None:
    lp = sub.add_parser("loop", help="closing the loop: release tickets, roadmap notices, macro usage",
                        description="Read what Aftercare told customers: tickets a release solved or reopened "
                                    "(and the references it ignored), who heard about a roadmap item, macro usage.")
    lps = lp.add_subparsers(dest="command", metavar="<command>")
    p = lps.add_parser("release-tickets", help="tickets a deployment solved or reopened, and ignored references (JSON)")
    p.add_argument("deployment_id", type=int)
    p.set_defaults(func=_release_tickets)
    p = lps.add_parser("told", help="who was told about a roadmap item, and when (JSON)")
    p.add_argument("roadmap_item_id", type=int)
    p.set_defaults(func=_told)
    p = lps.add_parser("macros", help="the most used macros (JSON)")
    p.add_argument("--days", type=int, default=30, help="uses in the last N days (default 30; 0 = all time)")
    p.set_defaults(func=_macros)


def _print(rows) -> int:
    print(json.dumps(rows, indent=2, default=str, ensure_ascii=False))
    return 0


def _release_tickets(args) -> int:
    from core.cli import CLIError
    from core.db import session_scope
    from core.loop.fixes import release_tickets
    from core.releases.models import Deployment

    with session_scope() as s:
        if s.get(Deployment, args.deployment_id) is None:
            raise CLIError(f"no deployment #{args.deployment_id}")
        return _print(release_tickets(session=s, deployment_id=args.deployment_id))


def _told(args) -> int:
    from core.cli import CLIError
    from core.db import session_scope
    from core.feedback.models import RoadmapItem
    from core.loop.roadmap import told_for_item

    with session_scope() as s:
        if s.get(RoadmapItem, args.roadmap_item_id) is None:
            raise CLIError(f"no roadmap item {args.roadmap_item_id}")
        return _print(told_for_item(session=s, roadmap_item_id=args.roadmap_item_id))


def _macros(args) -> int:
    from core.cli import CLIError
    from core.db import session_scope
    from core.loop.macros import most_used

    if args.days < 0:
        raise CLIError("--days: 0 or more")
    with session_scope() as s:
        return _print(most_used(session=s, days=args.days or None, limit=50))
