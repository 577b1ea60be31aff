"""Shared CLI helpers: data directory, passphrase input, signing in, table output."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from app.model.errors import FrontierError, PassphraseChangeRequired, ValidationError
from app.services import workstation
from app.services.record_signatures import Standing
from app.services.session import Session


def data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data_dir).expanduser() if args.data_dir else workstation.default_data_dir()


def read_secret(prompt: str) -> str:
    """Terminal: prompt without echo. Pipe: one line from standard input."""
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline() if sys.stdin is not None else ""
    if not line:
        raise FrontierError(f"{prompt.strip().rstrip(':')}: no passphrase on standard input")
    return line.rstrip("\r\n")


def username(args: argparse.Namespace) -> str:
    return args.user or os.environ.get("FRONTIER_REVIEW_USER") or getpass.getuser()


def _schema_update(_done: int, _total: int, text: str) -> None:
    print(f"{text}…", file=sys.stderr)  # the first command after an upgrade may take seconds here


def open_session(args: argparse.Namespace) -> Session:
    user = username(args)
    passphrase = read_secret(f"Passphrase for {user}: ")
    # Kept for this process only: sensitive commands (user add, passwd) re-use it to unwrap the key.
    args._passphrase = passphrase
    try:
        session = workstation.sign_in(data_dir(args), user, passphrase, progress=_schema_update)
    except PassphraseChangeRequired:
        # First sign-in: the person replaces the passphrase an administrator gave them, which
        # creates their own signing key (stdin order: current passphrase, new, new again).
        print(f"{user} still has the first passphrase an administrator set: choose your own.", file=sys.stderr)
        new = read_secret("New passphrase: ")
        if read_secret("New passphrase again: ") != new:
            raise ValidationError("passphrase", "the two new passphrases differ") from None
        session = workstation.change_initial_passphrase(data_dir(args), user, passphrase, new)
        args._passphrase = new
    for warning in session.integrity_warnings:
        print(f"WARNING: {warning}", file=sys.stderr)
    for notice in session.notices:
        print(f"NOTE: {notice}", file=sys.stderr)
    return session


@contextmanager
def signed_in(args: argparse.Namespace) -> Iterator[Session]:
    """`with signed_in(args) as session:` the command's account, signed out however the body ends."""
    session = open_session(args)
    try:
        yield session
    finally:
        session.close()


def print_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    text = [[("" if v is None else str(v)) for v in r] for r in rows]
    widths = [len(h) for h in headers]
    for r in text:
        widths = [max(w, len(v)) for w, v in zip(widths, r, strict=False)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False)).rstrip())
    for r in text:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=False)).rstrip())


def sign_again(label: str, before: Standing, sign: Callable[[], Standing], signer: str) -> int:
    """`vuln sign` / `submission sign`: sign a record that does not hold after review, and say what
    was wrong and how it stands now (exit 1 if it still does not hold, e.g. a pending certificate)."""
    if before.holds:
        print(f"{label} {before.describe()}; nothing to sign")
        return 0
    after = sign()
    print(f"{label} was: {before.problem}")
    print(f"{label} signed by {signer}: {after.describe()}")
    return 0 if after.holds else 1
