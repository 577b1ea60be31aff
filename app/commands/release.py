"""`release build|developer|list|show|approve|export`: releasable versions of a findings report for
one partner (issue 16, points 2, 3 and 7)."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.commands.banners import banner_lines
from app.commands.common import print_table, read_secret, signed_in
from app.model.markings import Marking
from app.model.release import Line
from app.model.release_record import StoredRelease
from app.services import pki as pki_service
from app.services import releases
from app.services.session import Session


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("release", help="releasable versions of a report for a partner (two-person approval)")
    s = p.add_subparsers(dest="release_command", required=True)

    b = s.add_parser("build", help="build the release of a submission's report for a partner (asks the passphrase)")
    b.add_argument("submission", type=int, help="submission id")
    b.add_argument("--partner", required=True, help="partner id or name (see `partner list`)")
    b.set_defaults(func=_build)

    d = s.add_parser("developer", help="build the release for the developer that submitted the model")
    d.add_argument("submission", type=int, help="submission id")
    d.set_defaults(func=_build, partner=None)

    ls = s.add_parser("list", help="releases (optionally of one submission)")
    ls.add_argument("--submission", type=int)
    ls.set_defaults(func=_list)

    sh = s.add_parser("show", help="a release and its withheld statement; --side-by-side prints both texts")
    sh.add_argument("release", type=int, help="release id")
    sh.add_argument("--side-by-side", action="store_true",
                    help="the full text (withheld portions marked WITHHELD with their reasons), then the release")
    sh.set_defaults(func=_show)

    ap = s.add_parser("approve", help="approve and countersign a release as releasing official (a lead who did "
                                      "not build it; read `release show ID --side-by-side` first)")
    ap.add_argument("release", type=int, help="release id")
    ap.set_defaults(func=_approve)

    ex = s.add_parser("export", help="write an approved release, signed and sealed to the partner, to media")
    ex.add_argument("release", type=int, help="release id")
    ex.add_argument("--media-label", required=True, metavar="LABEL",
                    help="classification label of the media, e.g. 'SECRET//REL TO USA, GBR'")
    ex.add_argument("--output", required=True, metavar="DIR",
                    help="folder on the media (CONTROL.sealed/ is created inside it)")
    ex.set_defaults(func=_export)


def _pin(session: Session) -> str | None:
    info = pki_service.identity_info(session)
    if info is not None and info.source == "pkcs11":
        return read_secret(f"PIN for token {info.token_label}: ")
    return None


def _describe(r: StoredRelease) -> str:
    return (f"release {r.id} {r.control_number} for {r.partner_name}{' (the submitting developer)' if r.own else ''}"
            f": {r.state}, marked {r.marking}, {r.withheld.get('total', 0)} portions withheld")


def _build(args: argparse.Namespace) -> int:
    from app.services import partners

    with signed_in(args) as session:
        if args.partner is None:
            partner = releases.developer_partner(session, args.submission)
        else:
            partner = partners.find(session, args.partner)
        assert partner.id is not None
        r = releases.build(session, args.submission, partner.id, args._passphrase, _pin(session))
    print(_describe(r))
    print("A lead who did not build it approves it after `release show "
          f"{r.id} --side-by-side`: `release approve {r.id}`")
    return 0


def _list(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        rows = releases.list_releases(session, args.submission)
    if not rows:
        print("No releases.")
        return 0
    # Each release's marking is computed from what it keeps; the list shows only those markings.
    with banner_lines([Marking.parse(r.marking) for r in rows]):
        print_table(["ID", "Control number", "Submission", "Partner", "State", "Marking", "Withheld", "Built by",
                     "Approved by"],
                    [[r.id, r.control_number, r.submission_id, r.partner_name, r.state, r.marking,
                      r.withheld.get("total", 0), r.built_by, r.approved_by or ""] for r in rows])
    return 0


def _lines(title: str, lines: tuple[Line, ...], show_reasons: bool) -> None:
    print(f"== {title}")
    for x in lines:
        if show_reasons and x.withheld:
            print(f"[WITHHELD: {'; '.join(x.reasons)}] {x.marking.portion()} {x.section}: {x.text}")
        else:
            print(f"{x.marking.portion()} {x.section}: {x.text}")


def _show(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        sbs = releases.side_by_side(session, args.release)
        problem = releases.approve_problem(session, args.release) if sbs.release.state == "built" else None
    r = sbs.release
    # The side-by-side quotes the full report: it is framed at the full report's marking.
    marking = sbs.full_marking if args.side_by_side else sbs.released_marking
    with banner_lines(marking):
        print(_describe(r))
        print(f"built by {r.built_by} at {r.built_at}; approved by {r.approved_by or '-'}"
              f"{' at ' + r.approved_at if r.approved_at else ''}")
        if r.state == "exported":
            print(f"exported to {r.export_path} (media {r.media_label}), manifest SHA-256 {r.manifest_sha256}")
        print(f"released PDF SHA-256 {r.sha256}; full report SHA-256 {r.full_sha256}")
        w = r.withheld
        print(f"Withheld: {w.get('total', 0)} portions")
        for section, n in w.get("sections", {}).items():
            print(f"  {section}: {n}")
        for reason, n in w.get("reasons", {}).items():
            print(f"  because {reason}: {n}")
        if r.state == "built":
            print(f"Approval: {problem or 'you may approve it (release approve ' + str(r.id) + ')'}")
        if args.side_by_side:
            _lines(f"FULL REPORT ({sbs.full_marking.banner()})", sbs.full, True)
            _lines(f"RELEASE ({sbs.released_marking.banner()})", sbs.released, False)
    return 0


def _approve(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        r = releases.approve(session, args.release, args._passphrase, _pin(session))
    print(f"{_describe(r)}; countersigned by {r.approved_by}, SHA-256 {r.sha256}")
    return 0


def _export(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        out = releases.export(session, args.release, Path(args.output), args.media_label, args._passphrase,
                              _pin(session))
    print(f"{out.sealed.path}: release {out.release.control_number} marked {out.release.marking}, sealed to "
          f"{len(out.sealed.recipients)} certificate(s) of {out.release.partner_name}")
    print(f"manifest SHA-256 {out.manifest_sha256}; dissemination log entry {out.dissemination_id}")
    return 0
