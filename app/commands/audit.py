"""`audit verify|list`."""

from __future__ import annotations

import argparse

from app.commands.common import print_table, signed_in
from app.services import audit


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="audit trail")
    s = p.add_subparsers(dest="audit_command", required=True)
    v = s.add_parser("verify", help="verify the hash chain and every event's signature; exit 1 when broken")
    v.add_argument("--events", action="store_true", help="list every event: signed by whom, valid or not")
    v.set_defaults(func=_verify)
    ls = s.add_parser("list", help="latest events")
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--actor")
    ls.add_argument("--action", help="action prefix, e.g. auth.")
    ls.set_defaults(func=_list)


def _verify(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        result = audit.verify(session)
        if args.events:
            print_table(["seq", "actor", "signed by", "signature"], result.signatures)
        print(result.summary())
        return 0 if result.ok else 1


def _list(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        print_table(["seq", "time (UTC)", "actor", "action", "object", "details"],
                    [(e.seq, e.ts[:19], e.actor, e.action, f"{e.object_type}:{e.object_id}",
                      str(e.details)[:80]) for e in audit.events(session, args.limit, 0, args.actor, args.action)])
    return 0
