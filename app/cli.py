"""Headless command line over app.services: scripting, tests, recovery.

Passphrases are read from the terminal without echo, or one per line from standard input
when it is not a terminal (scripting); never from arguments or the environment.

Command modules are imported lazily: `frontier-review --help` lists every command from the
table below without importing any of them, and a command imports only the module that
registers it (its services, reports, cryptography...). tests/unit/test_cli_lazy.py keeps the
table in step with what the modules register.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from app import __version__, cli_stdin
from app.model.errors import FrontierError

# Top-level command -> (module whose register(subparsers) defines it, the help line --help shows).
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("app.commands.setup", "set up a new workstation (first admin account, recovery key)"),
    "gui": ("app.commands.setup", "open the desktop application"),
    "user": ("app.commands.users", "manage accounts"),
    "submission": ("app.commands.submissions", "model submission registry"),
    "audit": ("app.commands.audit", "audit trail"),
    "backup": ("app.commands.backup", "encrypted, signed backups of this workstation"),
    "storage": ("app.commands.storage", "the workstation's database files (administrators)"),
    "selftest": ("app.commands.selftest", "run the installation self-test (temporary workstation, no network)"),
    "vuln": ("app.commands.vuln", "vulnerability register (AI cybersecurity clearinghouse)"),
    "import": ("app.commands.results", "import evaluation logs (Inspect .eval/.json, lm-eval results, CSV)"),
    "results": ("app.commands.results", "benchmark results"),
    "benchmark": ("app.commands.benchmarks", "benchmark definitions (signed documents)"),
    "plan": ("app.commands.benchmarks", "evaluation plan of a submission"),
    "assess": ("app.commands.assess", "assessment checklist, coverage determination, two-person approval"),
    "report": ("app.commands.report", "signed, marked findings reports"),
    "pki": ("app.commands.report", "workstation CA, signing certificates and trusted roots"),
    "verify": ("app.commands.report", "verify a signed report PDF or an export package folder"),
    "package": ("app.commands.package", "seal a package to partners' certificates; open a sealed package"),
    "review": ("app.commands.review", "lifecycle, next steps, assignment, discussion, a lead's decisions"),
    "finding": ("app.commands.review", "findings of a submission"),
    "settings": ("app.commands.review", "workstation settings"),
    "printer": ("app.commands.printers", "printers and their accreditation labels (printing is egress)"),
    "partner": ("app.commands.partners", "partner register: who may receive packages, releases and advisories"),
    "release": ("app.commands.release", "releasable versions of a report for a partner (two-person approval)"),
    "dissemination": ("app.commands.dissemination", "dissemination log: what left the workstation, to whom"),
    "receipt": ("app.commands.dissemination", "partners' signed receipts"),
}
# Every module that registers commands, in the order --help lists them.
COMMAND_MODULES = list(dict.fromkeys(module for module, _ in COMMANDS.values()))


def _global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="workstation data directory (default: the platform data directory)")
    parser.add_argument("--user", help="account to sign in as (default: $USER's account name)")
    parser.add_argument("--demo", action="store_true", help="open a demo workstation in a temporary directory")


def requested_command(argv: Sequence[str]) -> str | None:
    """The command word in argv (after the global options), without importing any command module."""
    pre = argparse.ArgumentParser(add_help=False)
    _global_options(pre)
    pre.add_argument("command", nargs="?")
    known, _ = pre.parse_known_args(list(argv))
    return known.command if isinstance(known.command, str) else None


def build_parser(command: str | None = None, load_all: bool = False) -> argparse.ArgumentParser:
    """The full parser. Only the module defining `command` is imported (all of them with load_all);
    the other commands appear as help lines, enough for --help and for argparse's choice check."""
    parser = argparse.ArgumentParser(
        prog="frontier-review", description="Frontier Review Workstation (air-gapped model review)."
    )
    parser.add_argument("--version", action="version", version=f"frontier-review {__version__}")
    _global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = COMMANDS.get(command or "", ("", ""))[0]
    registered: set[str] = set()
    for name, (module, help_text) in COMMANDS.items():
        if load_all or module == wanted:
            if module not in registered:
                importlib.import_module(module).register(sub)
                registered.add(module)
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    cli_stdin.annotate(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. A reader that stops early (`frontier-review review status 1 | head -1`) ends
    every command quietly: no traceback, exit 141 (128 + SIGPIPE, what a shell reports for it)."""
    try:
        try:
            return _main(argv)
        finally:
            sys.stdout.flush()  # output still buffered meets the closed pipe here, not at interpreter exit
    except BrokenPipeError:
        _drop_stdout()
        return 141


def _drop_stdout() -> None:
    """Point standard output at the null device, so the interpreter's own flush at exit finds no
    closed pipe either (the approach in Python's documentation of SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (tests capture it): nothing to redirect
        pass


def _main(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = requested_command(argv)
    if command is None and "--demo" in argv:
        # "gui" has its own --demo flag whose default would otherwise overwrite the top-level one
        argv, command = [*argv, "gui", "--demo"], "gui"
    parser = build_parser(command)
    args = parser.parse_args(argv)
    if args.command is None:
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
