"""Findings reports: assemble, build, sign, countersign, export, verify, print (AU-2, AU-10, MP-3).

Role rules: reviewers and leads build and sign; only a lead countersigns, never the account that
signed; export needs a countersigned report and media labelled at least as high as the report.
Every step is audited; signing and export ask for the passphrase again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from cryptography import x509

from app.model.accounts import Permission, Role
from app.model.errors import IntegrityError, NotFound, PermissionDenied, ValidationError
from app.model.markings import Marking
from app.model.package_result import PackageResult
from app.model.report import (
    ReportInput,
)
from app.model.report_version import StoredReport
from app.model.verification import AWAITING, PackageVerification, PdfVerification
from app.model.workflow import Act, Stage, stage
from app.services import egress, printers, revocation
from app.services import pki as pki_service
from app.services.report_assembly import assemble
from app.services.session import Session
from reports import findings_json, marking_lint, oscal, pki
from reports.package import FINDINGS_FILE, OSCAL_FILE, PDF_FILE, write_package
from reports.pdf import build_pdf
from reports.signing import SignatureRequest, lead_request, reviewer_request, sign_pdf, software_signer, token_signer
from reports.verify import (
    apply_revocations,
    revoked_in_crl,
    signature_certificates,
    verify_pdf,
)
from reports.verify_package import verify_package
from storage import reports_repo, workflow_repo

Progress = Callable[[int, int, str], None]


# -- build -------------------------------------------------------------------------------------


def build(session: Session, submission_id: int, progress: Progress | None = None,
          cancel: Callable[[], bool] | None = None, report_input: ReportInput | None = None) -> StoredReport:
    """Render a new version of the report and store it (state 'built'); audited as report.build."""
    from app.services import workflow

    session.require(Permission.ASSESS)
    workflow.require(session, submission_id, Act.BUILD_REPORT)
    report = report_input or assemble(session, submission_id)
    built = build_pdf(report, progress, cancel)
    problems = marking_lint.lint_pdf(report, built.data)
    if problems:
        raise ValidationError("report markings", "the built report would quote marked information in a lower "
                              "portion, so it was not stored: " + "; ".join(problems[:5]))
    # The machine-readable companions come from the same input as the PDF, now, not at export time.
    oscal_doc, findings_doc = oscal.to_json(report), findings_json.to_json(report)
    with session.transaction() as conn:
        rid = reports_repo.insert(conn, submission_id, report.version, report.control_number, built.marking.banner(),
                                  report.title, built.data, built.sha256, report.audit_head_hash,
                                  session.account.username, session.now(),
                                  {"page": built.signature_page, "boxes": built.signature_boxes}, oscal_doc,
                                  findings_doc)
        session.audit(conn, "report.build", "report", rid,
                      {"submission": submission_id, "version": report.version, "control_number": report.control_number,
                       "sha256": built.sha256, "pages": built.pages, "marking": built.marking.banner(),
                       "audit_head": report.audit_head_hash})
        return reports_repo.get(conn, rid)


def get(session: Session, report_id: int) -> StoredReport:
    session.require(Permission.VIEW_CONTENT)
    return reports_repo.get(session.db.conn, report_id)


def pdf_bytes(session: Session, report_id: int) -> bytes:
    session.require(Permission.VIEW_CONTENT)
    return reports_repo.pdf(session.db.conn, report_id)


def for_submission(session: Session, submission_id: int) -> list[StoredReport]:
    session.require(Permission.VIEW_CONTENT)
    return reports_repo.for_submission(session.db.conn, submission_id)


def recent(session: Session, limit: int = 200) -> list[StoredReport]:
    session.require(Permission.VIEW_CONTENT)
    return reports_repo.latest(session.db.conn, limit)


# -- signing -----------------------------------------------------------------------------------


def _signature_request(session: Session, report: StoredReport, countersign: bool) -> SignatureRequest:
    layout = reports_repo.signature_layout(session.db.conn, report.id)
    make = lead_request if countersign else reviewer_request
    return make(int(layout.get("page") or 1), layout.get("boxes", {}), session.settings.workstation_name)


def _sign_with_identity(session: Session, pdf: bytes, request: SignatureRequest, pin: str | None) -> bytes:
    ident = pki_service.load_identity(session, session.account.username)
    problem = pki.chain_problem(ident.cert, ident.chain, pki_service.trusted_roots(session), session.clock())
    if problem:
        raise ValidationError("signing certificate", f"{problem}; ask an administrator to issue a new one")
    if ident.key is not None:
        return sign_pdf(pdf, software_signer(ident.key, ident.cert, ident.chain), request)
    if pin is None:
        raise ValidationError("PIN", f"your signing key is on token '{ident.info.token_label}': enter its PIN")
    with token_signer(ident.info.token_module, ident.info.token_label, ident.info.key_label, pin, ident.cert,
                      ident.chain) as signer:
        return sign_pdf(pdf, signer, request)


sign_with_identity = _sign_with_identity  # releases (app.services.releases) are signed the same way


def sign(session: Session, report_id: int, passphrase: str, pin: str | None = None) -> StoredReport:
    """The reviewer signs (first signature)."""
    from app.services import workflow

    session.require(Permission.SIGN)
    session.reauthenticate(passphrase)
    report = workflow.require_report(session, report_id, Act.SIGN)
    _require_signed_approval(session, report)
    request = _signature_request(session, report, countersign=False)
    signed = _sign_with_identity(session, reports_repo.pdf(session.db.conn, report_id), request, pin)
    return _store_signature(session, report, signed, countersign=False)


def countersign(session: Session, report_id: int, passphrase: str, pin: str | None = None) -> StoredReport:
    """A lead countersigns, as an incremental update; never the account that signed."""
    from app.services import workflow

    session.require(Permission.APPROVE)
    if session.account.role is not Role.LEAD:
        raise PermissionDenied("Only a lead reviewer countersigns reports.")
    session.reauthenticate(passphrase)
    report = workflow.require_report(session, report_id, Act.COUNTERSIGN)
    _require_signed_approval(session, report)
    request = _signature_request(session, report, countersign=True)
    signed = _sign_with_identity(session, reports_repo.pdf(session.db.conn, report_id), request, pin)
    return _store_signature(session, report, signed, countersign=True)


def _require_signed_approval(session: Session, report: StoredReport) -> None:
    """The assessment's approval must hold by signatures (a lead other than the submitter, over
    the current answers), not only by the rows the workflow reads."""
    from app.services import approvals, assessment

    view = assessment.for_submission(session, report.submission_id)
    if view is None:
        raise ValidationError("assessment", "this submission has no assessment; findings are signed only after a "
                              "lead has approved the assessment")
    why = approvals.assessment_approval_problem(session, session.db.conn, view.id)
    if why:
        raise IntegrityError(f"the assessment's approval does not hold: {why}. Findings are signed only over an "
                             "approval two persons signed.")


def _store_signature(session: Session, report: StoredReport, data: bytes, countersign: bool) -> StoredReport:
    sha = hashlib.sha256(data).hexdigest()
    with session.transaction() as conn:
        current = reports_repo.get(conn, report.id)
        if current.sha256 != report.sha256:
            raise ValidationError("report", "the report changed while it was being signed; try again")
        reports_repo.record_signature(conn, report.id, data, sha, session.account.username, session.now(), countersign)
        from app.services import approvals

        approvals.record(session, conn, "report.countersign" if countersign else "report.sign", "report", report.id,
                         {"control_number": report.control_number, "sha256": sha, "signed_over": report.sha256,
                          "marking": report.marking})
        ident = pki_service.identity_info(session)
        session.audit(conn, "report.countersign" if countersign else "report.sign", "report", report.id,
                      {"control_number": report.control_number, "sha256": sha,
                       "certificate": ident.fingerprint if ident else "", "source": ident.source if ident else ""})
        return reports_repo.get(conn, report.id)


# -- verification ------------------------------------------------------------------------------


def verify(session: Session, report_id: int) -> PdfVerification:
    session.require(Permission.VIEW_CONTENT)
    report = reports_repo.get(session.db.conn, report_id)
    result = verify_pdf(reports_repo.pdf(session.db.conn, report_id), pki_service.trusted_roots(session),
                        f"report {report.control_number}")
    revoked = {fp: datetime.fromisoformat(at) for fp, at in revocation.revoked_fingerprints(session).items()}
    apply_revocations(result, revoked, pki_service.legacy_fingerprints(session))
    if result.state == AWAITING and report.state == "countersigned":
        # The file alone cannot tell a cut-off countersignature from one never made; the record can.
        result.problems.append(f"the report was countersigned by {report.countersigned_by} at "
                               f"{report.countersigned_at}, but the stored PDF carries no countersignature "
                               "(the file was cut after the reviewer's signature or replaced)")
    with session.transaction() as conn:
        session.audit(conn, "report.verify", "report", report_id, {"ok": result.ok, "state": result.state})
    return result


def verify_path(path: Path, trusted_roots: Sequence[x509.Certificate],
                session: Session | None = None) -> PdfVerification | PackageVerification:
    """A PDF file or an export package folder, against explicit roots (this workstation's, or a CA
    obtained separately). Audited when a session is given."""
    path = Path(path)
    if path.is_dir():
        result: PdfVerification | PackageVerification = verify_package(path, trusted_roots)
        crl_file = path / pki_service.CRL_FILE
        if isinstance(result, PackageVerification) and result.pdf is not None and crl_file.is_file() \
                and crl_file.stat().st_size < 1 << 20:
            # The package's own CRL (covered by its signed manifest) says which signers were revoked.
            pdf_data = (path / PDF_FILE).read_bytes()
            apply_revocations(result.pdf, revoked_in_crl(crl_file.read_bytes(), trusted_roots,
                                                         signature_certificates(pdf_data)))
    elif path.is_file():
        result = verify_pdf(path.read_bytes(), trusted_roots, str(path))
    else:
        raise NotFound(f"{path} does not exist.")
    if session is not None:
        with session.transaction() as conn:
            session.audit(conn, "report.verify_file", "file", path.name, {"path": str(path), "ok": result.ok})
    return result


# -- export and print --------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportOutcome:
    package: PackageResult
    report: StoredReport


def _require_signed_marking(session: Session, report: StoredReport) -> None:
    """The media check compares with the marking the lead countersigned over this very PDF, so a
    lowered `reports.marking` row (written around the application) cannot carry a report onto
    lower media."""
    from app.services import decisions

    if report.state != "countersigned":
        return  # the workflow refuses the export with its own reason
    conn = session.db.conn
    d, why = decisions.latest(conn, decisions.Registry.load(conn, session.db_id), "report", report.id,
                              ("report.countersign",))
    content = decisions.content_of(d) if d is not None and why is None else {}
    if content.get("sha256") != report.sha256 or content.get("marking") != report.marking:
        raise IntegrityError(f"report {report.control_number}: its marking or PDF is not the one the lead "
                             f"countersigned ({why or 'the signed record differs'}); it is not exported")


def export_closes_review(session: Session, report_id: int) -> bool:
    """Does exporting this report release the findings and close its submission's review? True for
    the submission's latest report while the review is still open: the export records the release,
    and the lifecycle stage becomes "released · closed" (review clock stopped). False once it is
    released (another export is a further copy) and for an older version. The export dialog and
    `report export` say so and ask before they write."""
    from app.services import workflow

    session.require(Permission.VIEW_CONTENT)
    report = reports_repo.get(session.db.conn, report_id)
    versions = reports_repo.for_submission(session.db.conn, report.submission_id)
    if report.state != "countersigned" or not versions or versions[0].id != report.id:
        return False  # not exported at all (the workflow says why), or an older version: no lifecycle change
    before = workflow.work_state(session, report.submission_id)
    return (stage(before) is not Stage.RELEASED
            and stage(replace(before, released=True)) is Stage.RELEASED)


def clear_export(session: Session, report_id: int, destination: Path, media_label: str) -> egress.Clearance:
    """The media check of an export, on its own: the dialog asks it before the passphrase, so media
    labelled lower is refused at once (the same message and audit event as `export` itself)."""
    report = _exportable(session, report_id)
    return egress.clear(session, f"the report {report.control_number}", Marking.parse(report.marking), media_label,
                        destination, refused_as=("report.export_refused", "report", report_id))


def _exportable(session: Session, report_id: int) -> StoredReport:
    session.require(Permission.EXPORT)
    report = reports_repo.get(session.db.conn, report_id)
    _require_signed_marking(session, report)
    return report


def export(session: Session, report_id: int, destination: Path, media_label: str, passphrase: str,
           pin: str | None = None, progress: Progress | None = None) -> ExportOutcome:
    """Write the countersigned report and its companions to removable media (audited report.export).
    While the review is open this is the release that closes it (`export_closes_review`)."""
    report = _exportable(session, report_id)
    content = Marking.parse(report.marking)
    # the same check as clear_export, here too: tests/unit/test_egress_walk.py finds every writer's
    cleared = egress.clear(session, f"the report {report.control_number}", content, media_label, destination,
                           refused_as=("report.export_refused", "report", report_id))
    egress.check_folder(destination)
    media = cleared.media
    from app.services import workflow

    workflow.require_report(session, report_id, Act.EXPORT)
    session.reauthenticate(passphrase)
    oscal_doc, findings_doc = reports_repo.companions(session.db.conn, report_id)
    files = {PDF_FILE: reports_repo.pdf(session.db.conn, report_id), OSCAL_FILE: oscal_doc, FINDINGS_FILE: findings_doc,
             **pki_service.revocation_files(session)}
    sign_manifest, ca_pem = pki_service.manifest_signer(session, pin, "a reviewer or lead exports reports")
    ca_pem = _with_signature_cas(session, ca_pem, files[PDF_FILE])
    name = report.control_number
    result = write_package(Path(destination), name, files, content, media, sign_manifest, ca_pem, progress)
    with session.transaction() as conn:
        # The release is what closes the review (the lifecycle reads it back).
        workflow_repo.record_release(conn, report_id, report.submission_id, str(result.path), media.banner(),
                                     session.account.username, session.now())
        session.audit(conn, "report.export", "report", report_id,
                      {"destination": str(result.path), "media": media.banner(), "marking": content.banner(),
                       "files": result.files, "control_number": report.control_number})
        egress.record(session, conn, cleared, files=result.files)
    return ExportOutcome(result, report)


def _with_signature_cas(session: Session, ca_pem: bytes, pdf: bytes) -> bytes:
    """The package's CA file also carries the CA certificates above each report signature that this
    workstation trusts (e.g. a smart card's agency CA), so a receiver can build every signer's path
    from the package itself once it has decided to trust those CAs."""
    roots, now = pki_service.trusted_roots(session), session.clock()
    embedded = signature_certificates(pdf)
    cas = [c for c in embedded if pki.is_ca(c) and pki.chain_problem(c, embedded, roots, now) is None]
    return pki.certs_to_pem(pki.dedupe([*pki.certs_from_pem(ca_pem, "package CA file"), *cas]))


def clear_print(session: Session, report_id: int, printer: str) -> printers.PrintClearance:
    """May this report go to `printer`? Its label must dominate the report's marking (refusals are
    audited as print.refused). A countersigned report is checked at the marking the lead signed."""
    session.require(Permission.VIEW_CONTENT)
    report = reports_repo.get(session.db.conn, report_id)
    _require_signed_marking(session, report)
    return printers.clear(session, f"the report {report.control_number}", Marking.parse(report.marking), printer,
                          ("report", report_id))


with_signature_cas = _with_signature_cas  # release packages ship the same CA file


def record_print(session: Session, clearance: printers.PrintClearance, copies: int = 1, pages: str = "all") -> None:
    """Every print is in the audit trail (AU-2): who, which report and version, which printer and its label."""
    report = reports_repo.get(session.db.conn, int(clearance.object_id))
    printers.record(session, clearance, copies, pages, action="report.print",
                    control_number=report.control_number, state=report.state, sha256=report.sha256)
