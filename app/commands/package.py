"""`package seal|open`: seal an exported package to partners' certificates; open a sealed one."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.commands.common import data_dir, read_secret, signed_in
from app.model.errors import ValidationError
from app.services import sealing, workstation


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("package", help="seal a package to partners' certificates; open a sealed package")
    s = p.add_subparsers(dest="package_command", required=True)

    se = s.add_parser("seal", help="seal an exported package folder to registered partners (CMS AES-256-GCM)")
    se.add_argument("folder", help="the package folder (as written by 'report export'); it must verify")
    se.add_argument("dest", help="folder on the media: NAME.sealed/ is created inside it")
    se.add_argument("--partner", action="append", default=[], required=True, metavar="PARTNER",
                    help="a registered partner (id or name) with an encryption certificate; repeat for several")
    se.add_argument("--media", required=True, metavar="LABEL",
                    help="classification label of the media, e.g. 'SECRET//REL TO USA, GBR'")
    se.set_defaults(func=_seal)

    op = s.add_parser("open", help="decrypt a sealed package with your key; optionally verify it with --ca")
    op.add_argument("sealed", help="NAME.p7m, or the NAME.sealed folder holding it")
    op.add_argument("dest", help="folder in which the package folder NAME/ is created")
    op.add_argument("--key", required=True, metavar="KEY.pem", help="your private key (PEM or DER, RSA or EC)")
    op.add_argument("--cert", required=True, metavar="CERT.pem", help="your certificate the package was sealed to")
    op.add_argument("--ca", action="append", default=[], metavar="FILE",
                    help="verify the opened package against this sender CA (PEM/DER) right away")
    op.set_defaults(func=_open)


def _seal(args: argparse.Namespace) -> int:
    if not workstation.is_initialized(data_dir(args)):
        raise ValidationError("package seal", "no workstation here: sealing re-verifies the package against this "
                                              "workstation's trusted roots")
    with signed_in(args) as session:
        out = sealing.seal_folder(session, Path(args.folder), args.partner, Path(args.dest), args.media)
    r = out.result
    print(f"sealed package written: {r.path} (content {r.marking.banner()}, media {r.media.banner()})")
    print(f"  {r.sha256}  {r.sealed_file}")
    for who in r.recipients:
        print(f"  sealed to {who}")
    print(f"  recorded in the dissemination log for {', '.join(args.partner)}")
    return 0


def _open(args: argparse.Namespace) -> int:
    from reports import cms_seal
    from reports.sealed_package import find_sealed_file

    password = read_secret(f"Password of {Path(args.key).name}: ") if sealing.key_needs_password(
        Path(args.key)) else None
    key = sealing.read_private_key(Path(args.key), password)
    certs = sealing.read_certificates(Path(args.cert))
    sealed = find_sealed_file(Path(args.sealed))
    for who in cms_seal.sealed_recipients(sealed.read_bytes(), str(sealed)):
        print(f"sealed to {who.describe()}")
    folder = sealing.open_to_folder(sealed, key, certs[0], Path(args.dest))
    print(f"opened: {folder}")
    if not args.ca:
        print(f"verify it: frontier-review verify {folder} --ca SENDER-CA.pem")
        return 0
    from app.services import reports as report_service

    roots = [c for f in args.ca for c in sealing.read_certificates(Path(f))]
    result = report_service.verify_path(folder, roots)
    print("\n".join(result.lines()))
    return 0 if result.ok else 1
