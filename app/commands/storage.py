"""`storage check`: the whole database's structural check (sign-in checks all but the results' bulk);
`storage repage`: rewrite the workstation's database at the new page size (administrators)."""

from __future__ import annotations

import argparse
import sys

from app.commands.common import signed_in
from app.services import db_check, repage


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("storage", help="the workstation's database files (administrators)")
    s = p.add_subparsers(dest="storage_command", required=True)
    r = s.add_parser("repage", help="rewrite the database at 32 KiB pages (workstations set up before them "
                                    "have 4 KiB); nobody else may have it open meanwhile")
    r.set_defaults(func=_repage)
    c = s.add_parser("check", help="check the whole database's structure, imported results included (sign-in "
                                   "checks everything else); exit 1 when damaged")
    c.set_defaults(func=_check)


def _check(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        problems = db_check.check(session)
        if problems:
            print(db_check.describe(problems, session), file=sys.stderr)
            return 1
        print(f"{session.db.path}: sound (SQLite quick_check of every table and index)")
    return 0


def _repage(args: argparse.Namespace) -> int:
    with signed_in(args) as session:  # the passphrase is asked first; the rewrite re-checks it
        result, again = repage.repage(session, args._passphrase)
        again.close()
    print(f"rewritten: {result.old_page_size}-byte pages -> {result.new_page_size}-byte pages; "
          f"{result.tables} tables, {result.rows:,} rows compared; audit chain verified to event {result.audit_seq}; "
          f"{result.old_bytes:,} -> {result.new_bytes:,} bytes")
    return 0
