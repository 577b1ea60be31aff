"""`printer add|list|show|remove`: the register of printers and their accreditation labels (admin)."""

from __future__ import annotations

import argparse

from app.commands.common import print_table, signed_in
from app.services import printers


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("printer", help="printers and their accreditation labels (printing is egress)")
    s = p.add_subparsers(dest="printer_command", required=True)
    a = s.add_parser("add", help="register a printer (administrator; signed and audited)")
    a.add_argument("name", help="the printer's queue name as the operating system shows it")
    a.add_argument("--label", required=True, metavar="MARKING",
                   help="accreditation label: the highest marking it may print, e.g. SECRET//NOFORN")
    a.add_argument("--location", required=True, help="where the printer stands (room, building)")
    a.add_argument("--replace", action="store_true", help="replace the entry of a registered printer")
    a.set_defaults(func=_add)
    s.add_parser("list", help="registered printers, their labels and whether each entry holds").set_defaults(
        func=_list)
    sh = s.add_parser("show", help="one printer's entry")
    sh.add_argument("name")
    sh.set_defaults(func=_show)
    r = s.add_parser("remove", help="take a printer off the register (administrator; signed and audited)")
    r.add_argument("name")
    r.add_argument("--reason", default="", help="why (recorded)")
    r.set_defaults(func=_remove)


def _state(p: printers.Printer) -> str:
    return "usable" if p.usable else f"REFUSED: {p.problem}"


def _add(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        p = printers.register(session, args.name, args.label, args.location, replace=args.replace)
        print(f"Printer {p.name} registered, accredited for {p.label_text} ({p.location}).")
    return 0


def _list(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        rows = printers.list_printers(session)
        if not rows:
            print("No printers are registered: nothing can be printed until an administrator registers one.")
            return 0
        print_table(["name", "label", "location", "registered by", "state"],
                    [(p.name, p.label_text, p.location, f"{p.registered_by} {p.registered_at[:10]}", _state(p))
                     for p in rows])
    return 0


def _show(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        p = printers.get(session, args.name)
        for key, value in (("Name", p.name), ("Label", p.label_text), ("Location", p.location),
                           ("Registered by", p.registered_by), ("Registered at", p.registered_at[:19]),
                           ("State", _state(p))):
            print(f"{key + ':':15} {value}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        printers.remove(session, args.name, args.reason)
        print(f"Printer {args.name} removed from the register.")
    return 0
