"""`report build|list|sign|countersign|export|verify` and top-level `verify FILE|DIR`."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.commands.common import data_dir, open_session, print_table, read_secret
from app.model.errors import ValidationError
from app.services import pki as pki_service
from app.services import reports as report_service
from app.services import workstation
from app.services.session import Session
from reports import pki


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("report", help="signed, marked findings reports")
    s = p.add_subparsers(dest="report_command", required=True)

    b = s.add_parser("build", help="build a new version of a submission's findings report")
    b.add_argument("submission", type=int, help="submission id")
    b.set_defaults(func=_build)

    ls = s.add_parser("list", help="list reports (optionally of one submission)")
    ls.add_argument("--submission", type=int)
    ls.set_defaults(func=_list)

    sg = s.add_parser("sign", help="sign a built report as the reviewer (asks the passphrase; token PIN if any)")
    sg.add_argument("report", type=int, help="report id")
    sg.set_defaults(func=_sign, countersign=False)

    cs = s.add_parser("countersign", help="countersign a signed report as lead reviewer")
    cs.add_argument("report", type=int, help="report id")
    cs.set_defaults(func=_sign, countersign=True)

    ex = s.add_parser("export", help="write the countersigned report package to removable media")
    ex.add_argument("report", type=int, help="report id")
    ex.add_argument("dest", help="folder on the media (the package folder is created inside it)")
    ex.add_argument("--media", required=True, metavar="LABEL",
                    help="classification label of the media, e.g. 'SECRET//NOFORN'")
    ex.set_defaults(func=_export)

    v = s.add_parser("verify", help="verify the signatures of a stored report; exit 1 when not valid")
    v.add_argument("report", type=int, help="report id")
    v.set_defaults(func=_verify_stored)

    top = sub.add_parser("verify", help="verify a signed report PDF or an export package folder")
    top.add_argument("path", help="report PDF or package folder")
    top.add_argument("--ca", action="append", default=[], metavar="FILE",
                     help="trust this CA certificate (PEM/DER) instead of signing in to the workstation")
    top.set_defaults(func=_verify_path)


def _pin_if_token(session: Session) -> str | None:
    info = pki_service.identity_info(session)
    if info is not None and info.source == "pkcs11":
        return read_secret(f"PIN for token {info.token_label}: ")
    return None


def _build(args: argparse.Namespace) -> int:
    session = open_session(args)
    try:
        r = report_service.build(session, args.submission)
    finally:
        session.close()
    print(f"report {r.id} built: {r.control_number} v{r.version}, marked {r.marking}, SHA-256 {r.sha256}")
    return 0


def _list(args: argparse.Namespace) -> int:
    session = open_session(args)
    try:
        rows = (report_service.for_submission(session, args.submission) if args.submission
                else report_service.recent(session))
    finally:
        session.close()
    print_table(["ID", "SUBMISSION", "VERSION", "CONTROL NUMBER", "STATE", "MARKING", "BUILT"],
                [[r.id, r.submission_id, r.version, r.control_number, r.state, r.marking, r.built_at[:19]]
                 for r in rows])
    return 0


def _sign(args: argparse.Namespace) -> int:
    session = open_session(args)
    try:
        pin = _pin_if_token(session)
        action = report_service.countersign if args.countersign else report_service.sign
        r = action(session, args.report, args._passphrase, pin)
    finally:
        session.close()
    print(f"report {r.id} ({r.control_number}) is now {r.state}; SHA-256 {r.sha256}")
    return 0


def _export(args: argparse.Namespace) -> int:
    session = open_session(args)
    try:
        pin = _pin_if_token(session)
        out = report_service.export(session, args.report, Path(args.dest), args.media, args._passphrase, pin)
    finally:
        session.close()
    print(f"package written: {out.package.path} (content {out.package.marking.banner()}, "
          f"media {out.package.media.banner()})")
    for name, sha in sorted(out.package.files.items()):
        print(f"  {sha}  {name}")
    return 0


def _verify_stored(args: argparse.Namespace) -> int:
    session = open_session(args)
    try:
        result = report_service.verify(session, args.report)
    finally:
        session.close()
    print("\n".join(result.lines()))
    return 0 if result.ok else 1


def _verify_path(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if args.ca:
        roots = []
        for f in args.ca:
            try:
                roots.append(pki.cert_from_bytes(Path(f).read_bytes(), f))
            except OSError as exc:
                raise ValidationError(f, f"cannot be read ({exc.strerror})") from None
        for c in roots:
            print(f"trusting CA {pki.common_name(c)} (SHA-256 {pki.fingerprint(c)}) as given on the command line")
        result = report_service.verify_path(path, roots)
    else:
        if not workstation.is_initialized(data_dir(args)):
            raise ValidationError("--ca", "no workstation here: name the CA certificate to trust with --ca FILE")
        session = open_session(args)
        try:
            result = report_service.verify_path(path, pki_service.trusted_roots(session), session)
        finally:
            session.close()
    print("\n".join(result.lines()))
    return 0 if result.ok else 1
