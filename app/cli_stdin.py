"""What each command reads from standard input when it is not a terminal, in order, printed at
the end of its --help (and listed in the README). Secrets are never taken from arguments.

The order matters: a PIN typed where the passphrase is expected fails the sign-in, and then no
PIN is ever tried, so a wrong order cannot burn token PIN attempts.
"""

from __future__ import annotations

import argparse

PASSPHRASE = "your passphrase"
TOKEN_PIN = "your token's PIN (only when your signing key is on a smart card/token)"

# Command path -> lines read in order. Commands not listed that sign in read PASSPHRASE only.
ORDER: dict[str, tuple[str, ...]] = {
    "init": ("the administrator's new passphrase",),
    "gui": (),
    "selftest": (),
    "user add": (PASSPHRASE, "the new account's passphrase"),
    "user passwd": (PASSPHRASE, "your new passphrase"),
    "report sign": (PASSPHRASE, TOKEN_PIN),
    "report countersign": (PASSPHRASE, TOKEN_PIN),
    "report export": (PASSPHRASE, TOKEN_PIN),
    "dissemination recall": (PASSPHRASE, TOKEN_PIN),
    "release build": (PASSPHRASE, TOKEN_PIN),
    "release developer": (PASSPHRASE, TOKEN_PIN),
    "release approve": (PASSPHRASE, TOKEN_PIN),
    "release export": (PASSPHRASE, TOKEN_PIN),
    "pki import-p12": (PASSPHRASE, "the PKCS#12 file's password"),
    "pki token": (PASSPHRASE, "the token's PIN"),
    "backup restore": ("with --recovery-key: the recovery key, then the new passphrase; otherwise your passphrase",),
    "verify": ("with --ca FILE: nothing; otherwise " + PASSPHRASE,),
    "backup verify": ("with --offline or outside a workstation: nothing; otherwise " + PASSPHRASE,),
}


def text(path: str) -> str:
    lines = ORDER.get(path, (PASSPHRASE,))
    if not lines:
        return "Standard input: not read."
    steps = "; ".join(f"line {i} {line}" for i, line in enumerate(lines, 1))
    return f"Standard input when it is not a terminal (scripts): {steps}. On a terminal each is asked without echo."


def annotate(parser: argparse.ArgumentParser, path: str = "") -> None:
    """Give every leaf command's --help its stdin order (commands with subcommands recurse)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        if path and not parser.epilog:
            parser.epilog = text(path)
        return
    for action in subs:
        for name, child in action.choices.items():
            # Help-only placeholders of commands not loaded carry add_help=False: nothing to annotate.
            if child.add_help:
                annotate(child, f"{path} {name}".strip())
