"""Printable working documents (issue 12, point 4): the checklist of a submission, its findings
register, and the vulnerability register (one submission's or the whole workstation's).

Each is built as a marked PDF (reports.pdf_printable) from what the services hold, its overall
marking the roll-up of its portions. It leaves the workstation only through the two egress
checks: `write` (a file on media labelled at least as high: app.services.egress) and
`clear_print` / `record_print` (a registered printer accredited at least as high:
app.services.printers). Building one for preview writes nothing and leaves no trace; printing
and writing are audited.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from app.model.accounts import Permission
from app.model.errors import ValidationError
from app.model.markings import UNCLASSIFIED, Marking, rollup
from app.model.printable import DocumentKind, PrintableInput
from app.model.report import VulnerabilityRow
from app.model.vulnerabilities import Filters, Vulnerability
from app.services import egress, printers, report_assembly
from app.services.session import Session
from reports import marking_lint
from reports.pdf_printable import build_printable
from storage import submissions_repo
from storage.atomic import atomic_write


@dataclass(frozen=True)
class Printable:
    """A built document: the PDF, its computed marking, and what it is about (for the audit)."""

    kind: DocumentKind
    title: str
    reference: str
    pdf: bytes
    pages: int
    marking: Marking
    sha256: str
    subject: tuple[str, str]  # (object type, object id) of the audit events

    @property
    def what(self) -> str:
        return f"the {self.kind.label.lower()} {self.reference}"


def _build(session: Session, kind: DocumentKind, title: str, title_marking: Marking, reference: str,
           subject: tuple[str, str], **content: Any) -> Printable:
    when = session.clock().astimezone(UTC).replace(microsecond=0)
    doc = PrintableInput(kind, title, title_marking, reference, when, session.settings.workstation_name,
                         f"{session.account.display_name} ({session.account.username})", **content)
    overall = doc.overall_marking()
    blocks = report_assembly.authority_blocks(overall, list(doc.portion_markings()), session.settings)
    doc = dataclasses.replace(doc, **blocks)
    built = build_printable(doc)
    # As for the report: read the printed text back; a portion quoting a higher-marked value is refused.
    problems = marking_lint.lint_printable_pdf(doc, built.data)
    if problems:
        raise ValidationError("document markings", f"the {kind.label.lower()} would quote marked information in a "
                              "lower portion, so it was not printed: " + "; ".join(problems[:5]))
    return Printable(kind, title, reference, built.data, built.pages, built.marking, built.sha256, subject)


def _reference(session: Session, what: str) -> str:
    return f"FRW-{report_assembly.workstation_code(session)}-{what}"


def checklist(session: Session, submission_id: int) -> Printable:
    """The assessment checklist of a submission: every item with its status, justification,
    evidence and marking, after a matrix of statuses by section."""
    session.require(Permission.VIEW_CONTENT)
    sub = submissions_repo.get(session.db.conn, submission_id)
    sections, _findings = report_assembly.working_papers(session, submission_id)
    from app.services import assessment

    view = assessment.for_submission(session, submission_id)
    facts: tuple[tuple[Marking, str], ...] = ()
    if view is not None:
        items = [i for sec in sections for i in sec.items]
        facts = ((UNCLASSIFIED, f"Assessment {view.id}, template {view.template.template_id} "
                                f"v{view.template.version}, state: {view.state.value}."),
                 (rollup(i.marking for i in items) if items else UNCLASSIFIED,
                  f"{len(items)} items in {len(sections)} sections."))
    return _build(session, DocumentKind.CHECKLIST, f"Assessment checklist: {sub.display_name}", sub.marking,
                  _reference(session, f"{submission_id:05d}-CHECKLIST"), ("submission", str(submission_id)),
                  facts=facts, checklist=sections)


def findings_register(session: Session, submission_id: int) -> Printable:
    """The findings of a submission, each in full, with its evidence and linked vulnerabilities."""
    session.require(Permission.VIEW_CONTENT)
    sub = submissions_repo.get(session.db.conn, submission_id)
    _sections, found = report_assembly.working_papers(session, submission_id)
    facts = ((rollup(m for f in found for m in f.quoted_markings()) if found else UNCLASSIFIED,
              f"{len(found)} finding{'s' if len(found) != 1 else ''} recorded for submission #{submission_id}."),)
    return _build(session, DocumentKind.FINDINGS, f"Findings register: {sub.display_name}", sub.marking,
                  _reference(session, f"{submission_id:05d}-FINDINGS"), ("submission", str(submission_id)),
                  facts=facts, findings=found)


def _row(v: Vulnerability, problem: str | None = None) -> VulnerabilityRow:
    sev = v.severity
    vector = v.cvss_vector or v.cvss_v3_vector
    named = v.named_in_rows
    where = f"; submission #{v.context.submission_id}" if v.context.submission_id else ""
    status = f"{v.status.value}; TLP:{v.tlp.value}" + (f"; embargo until {v.embargo_until.isoformat()}"
                                                        if v.embargo_until else "")
    if problem:  # printed as the screen shows it: an entry edited around the application is flagged
        status += f"; DOES NOT HOLD its signature: {problem}"
    return VulnerabilityRow(v.id, (f"{v.title} ({named})" if named else v.title) + where,
                            sev.value if sev else "not scored", f"{v.score} ({vector})" if vector else "", status,
                            v.cwe, v.marking)


def vulnerability_register(session: Session, f: Filters | None = None, describe_filter: str = "") -> Printable:
    """The vulnerability register as the screen shows it (its filters applied), every row marked."""
    from app.services import vuln_signatures, vulnerabilities

    session.require(Permission.VIEW_CONTENT)
    found = vulnerabilities.list_all(session, f)
    held = vuln_signatures.standings(session, found)
    shown = vuln_signatures.shown_markings(session, [v for v in found if not held[v.id].holds])
    # an entry that does not hold is printed at the marking its editors signed, never a lowered row's
    found = [dataclasses.replace(v, marking=shown[v.id]) if v.id in shown else v for v in found]
    rows = tuple(_row(v, held[v.id].problem) for v in found)
    broken = sum(not s.holds for s in held.values())
    title, title_marking, ref = "Vulnerability register", UNCLASSIFIED, "VULNERABILITIES"
    subject = ("vulnerability", "register")
    if f is not None and f.submission_id is not None:
        sub = submissions_repo.get(session.db.conn, f.submission_id)
        title, title_marking = f"Vulnerability register: {sub.display_name}", sub.marking
        ref, subject = f"{f.submission_id:05d}-VULNERABILITIES", ("submission", str(f.submission_id))
    facts = ((rollup(r.marking for r in rows) if rows else UNCLASSIFIED,
              f"{len(rows)} entr{'ies' if len(rows) != 1 else 'y'}"
              + (f" ({describe_filter})" if describe_filter else "") + "."
              + (f" {broken} do{'es' if broken == 1 else ''} not hold {'its' if broken == 1 else 'their'} signature "
                 "(edited around the application)." if broken else "")),)
    return _build(session, DocumentKind.VULNERABILITIES, title, title_marking, _reference(session, ref), subject,
                  facts=facts, vulnerabilities=rows)


# -- egress: a file on media, or a printer ------------------------------------------------------


def write(session: Session, doc: Printable, path: Path, media_label: str | Marking | None) -> Path:
    """Write the PDF to a file on media labelled at least as high as the document (audited)."""
    session.require(Permission.VIEW_CONTENT)
    path = Path(path)
    cleared = egress.clear(session, doc.what, doc.marking, media_label, path)
    egress.check_folder(path.parent)
    atomic_write(path, doc.pdf, mode=0o640)
    egress.write_marking_file(path.parent, cleared)
    with session.transaction() as conn:
        session.audit(conn, "print.export_pdf", doc.subject[0], doc.subject[1],
                      {"kind": doc.kind.value, "reference": doc.reference, "sha256": doc.sha256, "pages": doc.pages,
                       "marking": doc.marking.banner(), "path": str(path)})
        egress.record(session, conn, cleared, files=[path.name], sha256=doc.sha256)
    return path


def clear_print(session: Session, doc: Printable, printer: str) -> printers.PrintClearance:
    return printers.clear(session, doc.what, doc.marking, printer, doc.subject)


def record_print(session: Session, doc: Printable, clearance: printers.PrintClearance, copies: int,
                 pages: str) -> None:
    printers.record(session, clearance, copies, pages, kind=doc.kind.value, reference=doc.reference,
                    sha256=doc.sha256, document_pages=doc.pages)
