"""`python -m core users ...`: add, list, disable, enable and reset passwords."""

from __future__ import annotations

import getpass

from core.auth.roles import Role


def register(sub) -> None:
    users = sub.add_parser("users", help="console users and roles")
    us = users.add_subparsers(dest="command", metavar="<command>")
    p = us.add_parser("add", help="create a user")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--name", default=None)
    p.add_argument("--email", required=True)
    p.add_argument("--team", default=None, help="team key (tech, support, product, billing)")
    p.add_argument("--password", default=None, help="prompted for when omitted (or generated with --generate)")
    p.add_argument("--generate", action="store_true", help="generate a password and print it once")
    p.set_defaults(func=_add)
    us.add_parser("list", help="list users").set_defaults(func=_list)
    p = us.add_parser("disable", help="disable a user's login")
    p.add_argument("username")
    p.set_defaults(func=_disable)
    p = us.add_parser("enable", help="enable a user's login")
    p.add_argument("username")
    p.set_defaults(func=_enable)
    p = us.add_parser("reset-password", help="set a new password (generated and printed when omitted)")
    p.add_argument("username")
    p.add_argument("--password", default=None)
    p.set_defaults(func=_reset)


def _add(args) -> int:
    from core.auth import service
    from core.cli import CLIError
    from core.db import session_scope

    password = args.password
    if password is None:
        password = service.generate_password() if args.generate else getpass.getpass("Password: ")
    try:
        with session_scope() as s:
            user = service.create_user(session=s, actor="system", username=args.username, name=args.name or args.username,
                                       email=args.email, role=args.role, password=password, team_key=args.team)
            print(f"created {user.username} ({user.role})")
    except service.UserError as exc:
        raise CLIError(str(exc)) from exc
    if args.generate:
        print(f"password: {password}")
    return 0


def _list(args) -> int:
    from core.auth import service
    from core.db import session_scope

    with session_scope() as s:
        print(f"{'username':<20} {'role':<13} {'team':<10} {'active':<6} name")
        for u in service.list_users(session=s):
            print(f"{u.username:<20} {u.role:<13} {(u.team.key if u.team else '-'):<10} {'yes' if u.active else 'no':<6} {u.name}")
    return 0


def _set_active(username: str, active: bool) -> int:
    from core.auth import service
    from core.cli import CLIError
    from core.db import session_scope

    try:
        with session_scope() as s:
            service.set_active(session=s, actor="system", username=username, active=active)
    except service.UserError as exc:
        raise CLIError(str(exc)) from exc
    print(f"{username} {'enabled' if active else 'disabled'}")
    return 0


def _disable(args) -> int:
    return _set_active(args.username, False)


def _enable(args) -> int:
    return _set_active(args.username, True)


def _reset(args) -> int:
    from core.auth import service
    from core.cli import CLIError
    from core.db import session_scope

    try:
        with session_scope() as s:
            password = service.reset_password(session=s, actor="system", username=args.username, password=args.password)
    except service.UserError as exc:
        raise CLIError(str(exc)) from exc
    print(f"new password for {args.username}: {password}" if args.password is None else f"password changed for {args.username}")
    return 0
