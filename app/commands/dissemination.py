"""`dissemination list|print|recall` and `receipt import`: what left the workstation, to whom, and
the partners' signed acknowledgments (issue 16, points 4-5)."""

from __future__ import annotations

import argparse

from app.commands.banners import banner_lines
from app.commands.common import print_table, signed_in
from app.model.dissemination import DisseminationEntry, DisseminationKind, Filters
from app.model.markings import UNCLASSIFIED
from app.model.submissions import parse_date
from app.services.session import Session


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dissemination", help="dissemination log: what left the workstation, to whom")
    s = p.add_subparsers(dest="dissemination_command", required=True)
    ls = s.add_parser("list", help="the log, filtered; unacknowledged entries show their age")
    _filters(ls)
    ls.set_defaults(func=_list)
    pr = s.add_parser("print", help="write the (filtered) log as a marked PDF to media (egress check)")
    _filters(pr)
    pr.add_argument("--out", required=True, help="PDF file to write (on the media)")
    pr.add_argument("--media-label", required=True, help="classification label of the media")
    pr.set_defaults(func=_print)
    rc = s.add_parser("recall", help="recall notice packages to every partner that received an entry (or anything "
                                     "it superseded), sealed to their encryption certificate when registered")
    rc.add_argument("entry", type=int, help="log entry id")
    rc.add_argument("--reason", required=True)
    rc.add_argument("--out", required=True, help="destination folder (removable media)")
    rc.add_argument("--media-label", required=True, help="classification label of the media")
    rc.set_defaults(func=_recall)

    r = sub.add_parser("receipt", help="partners' signed receipts")
    rs = r.add_subparsers(dest="receipt_command", required=True)
    im = rs.add_parser("import", help="import receipt.json + receipt.json.p7s from media")
    im.add_argument("file", help="receipt.json (its detached signature receipt.json.p7s lies next to it)")
    im.set_defaults(func=_receipt_import)


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--partner", help="partner id or name")
    p.add_argument("--kind", choices=[k.value for k in DisseminationKind])
    p.add_argument("--object-type", help="e.g. report, release, csaf")
    p.add_argument("--object", dest="object_id", help="object id")
    p.add_argument("--since", help="sent on or after YYYY-MM-DD")
    p.add_argument("--until", help="sent on or before YYYY-MM-DD")
    p.add_argument("--unacknowledged", action="store_true", help="only entries without a receipt")


def filters_from(session: Session, args: argparse.Namespace) -> Filters:
    from app.services import partners

    pid = partners.find_row(session, args.partner).id if args.partner else None
    return Filters(partner_id=pid, kind=DisseminationKind(args.kind) if args.kind else None,
                   object_type=args.object_type or None, object_id=args.object_id or None,
                   since=parse_date("since", args.since) if args.since else None,
                   until=parse_date("until", args.until) if args.until else None,
                   unacknowledged=args.unacknowledged)


def ack_text(e: DisseminationEntry, session: Session) -> str:
    days = e.unacknowledged_days(session.today())
    if days is None:
        assert e.receipt is not None
        return f"acknowledged {e.receipt.received_at[:10]}"
    overdue = " OVERDUE" if days > session.settings.receipt_overdue_days else ""
    refused = f" (stored receipt REFUSED: {e.receipt_problem})" if e.receipt_problem else ""
    return f"unacknowledged {days} d{overdue}{refused}"


def _list(args: argparse.Namespace) -> int:
    from app.services import dissemination

    with signed_in(args) as session:
        rows = dissemination.entries(session, filters_from(session, args))
        with banner_lines([e.marking for e in rows] or [UNCLASSIFIED]):
            print_table(["ID", "SENT", "KIND", "WHAT", "TO", "MARKING", "TLP", "EMBARGO", "MEDIA", "APPROVED",
                         "MANIFEST", "RECEIPT", "NOTE"],
                        [[e.id, e.created_at[:10], e.kind.value, e.what, e.partner_name, e.marking.banner(),
                          e.tlp.value if e.tlp else "", e.embargo_until or "", e.media_label, e.approved_by,
                          e.manifest_sha256[:16], ack_text(e, session), _note(e)] for e in rows])
    return 0


def _note(e: DisseminationEntry) -> str:
    notes = [f"ENTRY DOES NOT HOLD: {e.record_problem}"] if e.record_problem else []
    if e.supersedes is not None:
        notes.append(f"{'recalls' if e.kind is DisseminationKind.RECALL else 'supersedes'} {e.supersedes}")
    if e.superseded_by is not None:
        notes.append(f"superseded by {e.superseded_by}")
    if e.recalled_by is not None:
        notes.append(f"recalled by {e.recalled_by}")
    return "; ".join(notes)


def _receipt_import(args: argparse.Namespace) -> int:
    from app.services import receipts

    with signed_in(args) as session:
        r = receipts.import_receipt(session, args.file)
        print(f"receipt for log entry {r.entry_id}: manifest {r.manifest_sha256[:16]}… received {r.received_at} "
              f"(signed by certificate {r.signer_fingerprint[:16]}…)")
    return 0


def _print(args: argparse.Namespace) -> int:
    from app.services import dissemination

    with signed_in(args) as session:
        pdf = dissemination.save_log_pdf(session, filters_from(session, args), args.out, args.media_label)
        print(f"{args.out}: dissemination log, {pdf.pages} pages, marked {pdf.marking.banner()}")
    return 0


def _pin_if_token(session: Session) -> str | None:
    from app.commands.common import read_secret
    from app.services import pki as pki_service

    info = pki_service.identity_info(session)
    if info is not None and info.source == "pkcs11":
        return read_secret(f"PIN for token {info.token_label}: ")
    return None


def _recall(args: argparse.Namespace) -> int:
    from app.services import recall

    with signed_in(args) as session:
        notices = recall.recall(session, args.entry, args.reason, args.out, args.media_label, args._passphrase,
                                _pin_if_token(session))
        for n in notices:
            how = "sealed to its encryption certificate" if n.sealed else (
                "NOT sealed (no encryption certificate registered): signed only")
            print(f"log entry {n.entry_id}: recall notice for {n.partner} (recalls {', '.join(map(str, n.recalled))}),"
                  f" marked {n.marking.banner()}, {how}: {n.path}")
    return 0
