"""`user add|list|disable|enable|passwd`."""

from __future__ import annotations

import argparse

from app.commands.common import print_table, read_secret, signed_in
from app.model.accounts import Role
from app.services import users


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("user", help="manage accounts")
    s = p.add_subparsers(dest="user_command", required=True)
    a = s.add_parser("add", help="add an account (stdin: your passphrase, then the new account's first passphrase, "
                                 "which its holder replaces at first sign-in)")
    a.add_argument("username")
    a.add_argument("--role", required=True, choices=[r.value for r in Role])
    a.add_argument("--name", help="display name")
    a.set_defaults(func=_add)
    s.add_parser("list", help="list accounts").set_defaults(func=_list)
    d = s.add_parser("disable", help="disable an account: its key slot is removed and its certificates revoked "
                                     "(stdin: your passphrase)")
    d.add_argument("username")
    d.set_defaults(func=_set_disabled, disable=True)
    e = s.add_parser("enable", help="re-enable an account with a new first passphrase (stdin: your passphrase, then "
                                    "the new first passphrase)")
    e.add_argument("username")
    e.set_defaults(func=_set_disabled, disable=False)
    r = s.add_parser("reset", help="give an account a new first passphrase; its old signing key is revoked (stdin: "
                                   "your passphrase, then the new first passphrase)")
    r.add_argument("username")
    r.set_defaults(func=_reset)
    s.add_parser("passwd", help="change your passphrase (stdin: old, then new)").set_defaults(func=_passwd)


def _add(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        new = read_secret(f"Passphrase for new account {args.username}: ")
        # The admin passphrase was just given to sign in; re-use it to unwrap the data key.
        admin_pass = session_pass_cache(args)
        acct = users.add_user(session, admin_pass, args.username, args.name or args.username, Role(args.role), new)
        print(f"Account {acct.username} ({acct.role.label}) created.")
    return 0


def session_pass_cache(args: argparse.Namespace) -> str:
    return str(getattr(args, "_passphrase", ""))


def _list(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        print_table(["username", "name", "role", "status", "created"],
                    [(a.username, a.display_name, a.role.label, "disabled" if a.disabled else "active",
                      a.created_at[:19]) for a in users.list_users(session)])
    return 0


def _set_disabled(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        if args.disable:
            users.set_disabled(session, args.username, True, session_pass_cache(args))
            print(f"Account {args.username} disabled; its key slot was removed and its certificates revoked.")
        else:
            first = read_secret(f"New first passphrase for {args.username}: ")
            users.set_disabled(session, args.username, False, session_pass_cache(args), first)
            print(f"Account {args.username} enabled; its holder sets their own passphrase at the next sign-in.")
    return 0


def _reset(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        first = read_secret(f"New first passphrase for {args.username}: ")
        users.reset_passphrase(session, session_pass_cache(args), args.username, first)
        print(f"Passphrase of {args.username} reset; they choose their own at the next sign-in.")
    return 0


def _passwd(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        users.change_own_passphrase(session, session_pass_cache(args), read_secret("New passphrase: "))
        print("Passphrase changed.")
    return 0
