"""Headless command line over app.services: scripting, tests, recovery.

Passphrases are read from the terminal without echo, or one per line from standard input
when it is not a terminal (scripting); never from arguments or the environment.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from app import __version__
from app.model.errors import FrontierError

# Each module exposes register(subparsers). One line per command family.
COMMAND_MODULES = [
    "app.commands.setup",
    "app.commands.users",
    "app.commands.submissions",
    "app.commands.audit",
    "app.commands.backup",
    "app.commands.selftest",
    "app.commands.vuln",
    "app.commands.results",
    "app.commands.assess",
    "app.commands.report",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="frontier-review", description="Frontier Review Workstation (air-gapped model review)."
    )
    parser.add_argument("--version", action="version", version=f"frontier-review {__version__}")
    parser.add_argument("--data-dir", help="workstation data directory (default: the platform data directory)")
    parser.add_argument("--user", help="account to sign in as (default: $USER's account name)")
    parser.add_argument("--demo", action="store_true", help="open a demo workstation in a temporary directory")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        if args.demo:
            # "gui" has its own --demo flag whose default would otherwise overwrite the top-level one
            args = parser.parse_args([*(argv if argv is not None else sys.argv[1:]), "gui", "--demo"])
        else:
            parser.print_help()
            return 0
    try:
        return int(args.func(args) or 0)
    except FrontierError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
