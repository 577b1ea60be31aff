"""`init` and `gui`."""

from __future__ import annotations

import argparse

from app.commands.common import data_dir, read_secret
from app.services import workstation


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("init", help="set up a new workstation (first admin account, recovery key)")
    p.add_argument("--name", required=True, help="workstation name")
    p.add_argument("--system-high", default="UNCLASSIFIED", help="highest marking held, e.g. SECRET//NOFORN")
    p.add_argument("--admin", required=True, help="administrator account name")
    p.add_argument("--admin-name", help="administrator display name")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--keyring", dest="keyring", action="store_true", default=None,
                      help="require the OS keyring secret")
    mode.add_argument("--no-keyring", dest="keyring", action="store_false", help="passphrase-only mode")
    p.set_defaults(func=_init)

    g = sub.add_parser("gui", help="open the desktop application")
    g.add_argument("--demo", action="store_true", help="open a demo workstation in a temporary directory")
    g.set_defaults(func=_gui)


def _init(args: argparse.Namespace) -> int:
    passphrase = read_secret(f"New passphrase for {args.admin}: ")
    result = workstation.initialize(
        data_dir(args), workstation_name=args.name, system_high=args.system_high,
        admin_username=args.admin, admin_display_name=args.admin_name or args.admin,
        admin_passphrase=passphrase, use_keyring=args.keyring,
    )
    result.session.close()
    print(f"Workstation initialised in {data_dir(args)}")
    print(f"Key protection: {result.keyring_mode} ({result.keyring_backend})")
    print("RECOVERY KEY (shown once: print it and store it under the workstation's classification):")
    print(f"  {result.recovery_key}")
    return 0


def _gui(args: argparse.Namespace) -> int:
    from ui.app import run_gui  # Qt is imported only when the GUI is asked for

    return run_gui(data_dir=data_dir(args) if args.data_dir else None, demo=bool(args.demo))
