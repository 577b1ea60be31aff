"""`assess export-pdf`, `finding export-pdf`, `vuln export-pdf`: the printable checklist, findings
register and vulnerability register as marked PDFs, written to media through the egress check."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.commands.common import signed_in
from app.model.printable import DocumentKind
from app.services import printables
from app.services.session import Session


def add_export_pdf(s: argparse._SubParsersAction, kind: DocumentKind) -> None:
    """Register `export-pdf` under a command's subparsers (assess, finding, vuln)."""
    p = s.add_parser("export-pdf", help=f"write the {kind.label.lower()} as a marked PDF (banners on every page, "
                                        "portion marks) to media labelled at least as high")
    if kind is DocumentKind.VULNERABILITIES:
        p.add_argument("--submission", type=int, help="only the vulnerabilities of this submission")
    else:
        p.add_argument("submission", type=int)
    p.add_argument("--output", required=True, help="the PDF file to write (on the removable media)")
    p.add_argument("--media-label", required=True, metavar="LABEL",
                   help="classification label of the media (content above it is refused)")
    p.set_defaults(func=_export_pdf, printable_kind=kind)


def _document(session: Session, kind: DocumentKind, submission: int | None) -> printables.Printable:
    if kind is DocumentKind.CHECKLIST:
        assert submission is not None
        return printables.checklist(session, submission)
    if kind is DocumentKind.FINDINGS:
        assert submission is not None
        return printables.findings_register(session, submission)
    from app.services import vulnerabilities

    f = vulnerabilities.filters(session, submission_id=submission) if submission is not None else None
    return printables.vulnerability_register(session, f, f"submission #{submission}" if submission else "")


def _export_pdf(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        doc = _document(session, args.printable_kind, args.submission)
        path = printables.write(session, doc, Path(args.output), args.media_label)
        print(f"{doc.kind.label} {doc.reference} ({doc.pages} pages, marked {doc.marking.banner()}) written to "
              f"{path}.")
    return 0
