"""`gateway users add|disable|list`: the accounts of the office's pages (/office/)."""
from __future__ import annotations

import argparse
import getpass
import sys

from rich.table import Table

from gateway.errors import ConfigError
from gateway.ops.terminal import terminal


def _by() -> str:
    """Who made the change, for the audit log: the command line and the system user running it."""
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (KeyError, OSError):
        return "cli"


def _password(args: argparse.Namespace) -> str:
    # Never an argument: it would sit in the shell's history and in every `ps` listing.
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise ConfigError("no terminal to ask the password on: pipe it in with --password-stdin")
    first = getpass.getpass(f"password for {args.username}: ")
    if getpass.getpass("the same again: ") != first:
        raise ConfigError("the two passwords differ; nothing was changed")
    return first


def cmd_add(args: argparse.Namespace) -> int:
    from gateway.bootstrap import bootstrap
    from gateway.office.accounts import add_user

    password = _password(args)
    gateway = bootstrap()
    try:
        with gateway.uow.session_factory() as session:
            user = add_user(session, gateway.routing, username=args.username, password=password, role=args.role,
                            committee_id=args.committee, workstation=args.workstation, display_name=args.name or "", by=_by())
            session.commit()
            where = user.committee_id if user.role == "committee" else user.workstation if user.role == "workstation" else "every committee"
        print(f"user {args.username} added: {args.role} ({where}); they log in at {gateway.settings.public_url.rstrip('/')}/office/")
    finally:
        gateway.close()
    return 0


def cmd_disable(args: argparse.Namespace) -> int:
    from gateway.bootstrap import bootstrap
    from gateway.office.accounts import disable_user

    gateway = bootstrap()
    try:
        with gateway.uow.session_factory() as session:
            disable_user(session, args.username, by=_by())
            session.commit()
        print(f"user {args.username} disabled: no more logins, and its open sessions end at their next page")
    finally:
        gateway.close()
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from gateway.bootstrap import bootstrap
    from gateway.office.accounts import list_users
    from gateway.periods import SHANGHAI

    gateway = bootstrap()
    try:
        with gateway.uow.read_session() as session:
            users = list_users(session)
        table = Table(title="office users (/office/)")
        for column in ("username", "name", "role", "committee", "workstation", "state", "last login"):
            table.add_column(column, no_wrap=column in ("username", "role", "state"))
        for u in users:
            table.add_row(u.username, u.display_name, u.role, u.committee_id or "", u.workstation or "", "active" if u.active else "disabled",
                          u.last_login_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if u.last_login_at else "")
        terminal().print(table)
    finally:
        gateway.close()
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    users = sub.add_parser("users", help="accounts of the office's pages (/office/): add, disable, list").add_subparsers(
        dest="users_command", metavar="ACTION", required=True)
    p = users.add_parser("add", help="add a user: office, committee (with --committee) or workstation (with --workstation)",
                         description="Add a user of the office's pages. The password is asked twice on the terminal, or read from the first "
                                     "line of standard input with --password-stdin; never give it as an argument. At least 8 characters.")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=["office", "committee", "workstation"],
                   help="office: every clue; committee: its committee's clues; workstation: what was forwarded to it")
    p.add_argument("--committee", help="a committee id of the routing configuration (role committee), e.g. urban")
    p.add_argument("--workstation", help="a workstation's name of the routing configuration (role workstation), e.g. 梨园镇委员工作站")
    p.add_argument("--name", help="the name shown on the pages and in the audit log, e.g. 城建环保委 张三")
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of standard input")
    p.set_defaults(func=cmd_add)
    p = users.add_parser("disable", help="disable a user: no more logins, open sessions end",
                         description="Disable a user. It can no longer log in and its open sessions end at their next request; the audit log keeps its history.")
    p.add_argument("username")
    p.set_defaults(func=cmd_disable)
    p = users.add_parser("list", help="the users, their roles and last logins")
    p.set_defaults(func=cmd_list)
