"""`python -m core mailbox poll|test` and `python -m core sync zendesk|front`: one pass each, with counts."""

from __future__ import annotations


def register(sub) -> None:
    m = sub.add_parser("mailbox", help="support mailbox: poll (one pass), test (the connection)")
    ms = m.add_subparsers(dest="command", metavar="<command>")
    p = ms.add_parser("poll", help="import new mail once: tickets, replies, skipped (with reasons)")
    p.add_argument("--limit", type=int, default=500, help="at most this many messages this pass")
    p.set_defaults(func=_poll)
    p = ms.add_parser("test", help="connect, log in and open the folder")
    p.set_defaults(func=_test)

    s = sub.add_parser("sync", help="helpdesk sync: zendesk, front (one pass in and out)")
    ss = s.add_subparsers(dest="command", metavar="<command>")
    for name in ("zendesk", "front"):
        p = ss.add_parser(name, help=f"sync {name.title()} once: changes in, Aftercare's fields and notes out")
        p.set_defaults(func=_sync, provider=name)


def _poll(args) -> int:
    from core.channels.mailbox import poll
    from core.channels.service import ChannelBusy
    from core.cli import CLIError

    try:
        result = poll(limit=args.limit)
    except ChannelBusy as exc:
        raise CLIError(str(exc)) from exc
    for line in result.lines():
        print(line)
    return 1 if result.error else 0


def _test(args) -> int:
    from core.channels.mailbox import MailboxError, test_connection
    from core.cli import CLIError
    from core.db import session_scope

    try:
        with session_scope() as s:
            print(test_connection(session=s))
    except MailboxError as exc:
        raise CLIError(str(exc)) from exc
    return 0


def _sync(args) -> int:
    from core.tickets.providers import run_sync
    from core.tickets.providers.base import ProviderError
    from core.cli import CLIError

    try:
        result = run_sync(args.provider)
    except ProviderError as exc:
        raise CLIError(str(exc)) from exc
    for line in result.lines():
        print(line)
    return 1 if result.error else 0
