"""`storage repage`: rewrite the workstation's database at the new page size (administrators)."""

from __future__ import annotations

import argparse

from app.commands.common import signed_in
from app.services import repage


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("storage", help="the workstation's database files (administrators)")
    s = p.add_subparsers(dest="storage_command", required=True)
    r = s.add_parser("repage", help="rewrite the database at 32 KiB pages (workstations set up before them "
                                    "have 4 KiB); nobody else may have it open meanwhile")
    r.set_defaults(func=_repage)


def _repage(args: argparse.Namespace) -> int:
    with signed_in(args) as session:  # the passphrase is asked first; the rewrite re-checks it
        result, again = repage.repage(session, args._passphrase)
        again.close()
    print(f"rewritten: {result.old_page_size}-byte pages -> {result.new_page_size}-byte pages; "
          f"{result.tables} tables, {result.rows:,} rows compared; audit chain verified to event {result.audit_seq}; "
          f"{result.old_bytes:,} -> {result.new_bytes:,} bytes")
    return 0
