"""Findings reports: assemble, build, sign, countersign, export, verify, print (AU-2, AU-10, MP-3).

Role rules: reviewers and leads build and sign; only a lead countersigns, never the account that
signed; export needs a countersigned report and media labelled at least as high as the report.
Every step is audited; signing and export ask for the passphrase again.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from app.model import report_markings
from app.model.accounts import Permission, Role
from app.model.errors import FrontierError, IntegrityError, NotFound, PermissionDenied, ValidationError
from app.model.markings import UNCLASSIFIED, Level, Marking, rollup
from app.model.narrative import Narrative
from app.model.report import (
    BenchmarkRow,
    ChecklistItem,
    ChecklistLink,
    ChecklistSection,
    ClassificationBlock,
    CoverageDetermination,
    CoverageRow,
    CuiBlock,
    EvidenceCitation,
    LinkedVulnerability,
    ReportFinding,
    ReportInput,
    Signer,
    SubmissionSummary,
    control_number,
)
from app.model.report_version import StoredReport
from app.model.verification import AWAITING, PackageVerification, PdfVerification
from app.model.workflow import Act
from app.services import egress, printers, revocation
from app.services import pki as pki_service
from app.services.session import Session
from reports import findings_json, marking_lint, oscal, pki
from reports.package import FINDINGS_FILE, OSCAL_FILE, PDF_FILE, PackageResult, write_package
from reports.pdf import build_pdf
from reports.signing import SignatureRequest, lead_request, reviewer_request, sign_pdf, software_signer, token_signer
from reports.verify import (
    apply_revocations,
    revoked_in_crl,
    signature_certificates,
    verify_pdf,
)
from reports.verify_package import verify_package
from storage import accounts as accounts_repo
from storage import audit as audit_log
from storage import reports_repo, submissions_repo, workflow_repo

Progress = Callable[[int, int, str], None]


# -- assembling the input ----------------------------------------------------------------------


def _checklist(session: Session, submission_id: int) -> tuple[tuple[ChecklistSection, ...], Any]:
    from app.services import assessment, assessment_evidence

    view = assessment.for_submission(session, submission_id)
    if view is None:
        return (), None
    links = assessment_evidence.evidence(session, view.id)
    by_item: dict[str, list[Any]] = {}
    for link in links:
        by_item.setdefault(link.item_id, []).append(link)
    sections = []
    for section in view.template.sections:
        items = []
        for t in section.items:
            ans = view.answer(t.id)
            ev = by_item.get(t.id, [])
            refs = tuple(f"{e.describe}" for e in ev)
            marking = rollup([ans.marking, *(e.marking for e in ev)])
            status = ans.status.label.lower()
            if ans.risk_approved_by:
                status += f" (approved by {ans.risk_approved_by}, expires {ans.risk_expiry})"
            items.append(ChecklistItem(t.id, t.title, status, ans.justification, refs, marking, ans.updated_by))
        sections.append(ChecklistSection(section.id, section.title, tuple(items)))
    return tuple(sections), view


def _coverage(session: Session, submission_id: int) -> CoverageDetermination | None:
    from app.services import coverage

    det = coverage.current_determination(session, submission_id)
    if det is None:
        return None
    rows = []
    for r in det.evaluation.get("results", []):
        inputs = r.get("inputs") or []
        rows.append(CoverageRow(
            f"{r.get('rule_id', '')} {r.get('title', '')}".strip(),
            "; ".join(str(i) for i in inputs) if isinstance(inputs, list) else str(inputs),
            str(r.get("threshold", "")), f"{r.get('outcome', '')}: {r.get('explanation', '')}".strip(": "),
            det.marking,  # rule thresholds may be classified: rows carry the determination's marking
        ))
    return CoverageDetermination(
        det.outcome, det.rationale, f"{det.ruleset_id} v{det.ruleset_version}", det.ruleset_sha256, tuple(rows),
        det.approved_by or "", det.approved_at or "", det.marking,
    )


def _findings(session: Session, submission_id: int, checklist: tuple[ChecklistSection, ...],
              view: Any) -> tuple[ReportFinding, ...]:
    from app.model.checklist import State
    from app.services import findings

    items = {i.id: i for section in checklist for i in section.items}
    linked = _vulns_by_finding(session, submission_id)
    cite = _EvidenceResolver(session, submission_id)
    status = "approved" if view is not None and view.state is State.APPROVED else "draft"
    out = []
    for f in findings.list_findings(session, submission_id):
        links = tuple(ChecklistLink(i, items[i].title if i in items else "", items[i].status if i in items else "")
                      for i in f.item_ids)
        out.append(ReportFinding(
            f.label, f.title, f.description, f.severity, f.recommendation, f.marking,
            tuple(f.item_ids), impact=f.impact, status=status,
            evidence=tuple(cite(ev.kind, ev.ref) for ev in f.evidence),
            vulnerabilities=linked.get(str(f.id), ()), checklist_items=links,
        ))
    return tuple(out)


def working_papers(session: Session, submission_id: int) -> tuple[tuple[ChecklistSection, ...],
                                                                    tuple[ReportFinding, ...]]:
    """The checklist and the findings as the report shows them, for the printable documents
    (app.services.printables): the same gathering, so what prints is what the report says."""
    session.require(Permission.VIEW_CONTENT)
    checklist, view = _checklist(session, submission_id)
    return checklist, _findings(session, submission_id, checklist, view)


def _vulns_by_finding(session: Session, submission_id: int) -> dict[str, tuple[LinkedVulnerability, ...]]:
    """Register entries recorded from a finding (their discovery context names it)."""
    from storage import vulns_repo

    out: dict[str, list[LinkedVulnerability]] = {}
    for v in vulns_repo.for_submission(session.db.conn, submission_id):
        fid = v.context.finding_id
        if not fid:
            continue
        sev = v.severity
        out.setdefault(fid, []).append(LinkedVulnerability(
            v.id, v.title, sev.value if sev else "", f"{v.score}" if v.cvss_vector else "", v.cvss_vector,
            v.status.value, v.marking, v.tlp.value, v.embargo_until))
    return {k: tuple(vs) for k, vs in out.items()}


class _EvidenceResolver:
    """Turns a finding's stored evidence pointers into citations a reader can check."""

    def __init__(self, session: Session, submission_id: int) -> None:
        from app.services import results

        self.session = session
        self.marking = submissions_repo.get(session.db.conn, submission_id).marking
        self.runs = {r.id: r for r in results.list_runs(session, submission_id)}
        self.artifacts = {a.sha256: a for a in submissions_repo.artifacts(session.db.conn, submission_id)}

    def __call__(self, kind: str, ref: str) -> EvidenceCitation:
        if kind == "blob":
            art = self.artifacts.get(ref)
            return EvidenceCitation("artifact", ref, name=art.filename if art else "", sha256=ref,
                                    marking=art.marking if art else self.marking)
        run_text, _, sample_id = ref.partition(":")
        run = self.runs.get(int(run_text)) if run_text.isdigit() else None
        if run is None:  # deleted or moved since: cite the pointer as stored
            return EvidenceCitation(kind, ref, sample_id=sample_id, marking=self.marking)
        base: dict[str, Any] = dict(benchmark=run.benchmark, task=run.task, log_sha256=run.file_sha256,
                                    marking=self.marking)
        if kind == "run":
            head = run.headline
            value = f"{head.label} {_fmt_score(head.value)}" if head is not None and head.value is not None else ""
            status = "" if run.status.value == "success" and not run.incomplete else f"run {_run_state(run)}"
            return EvidenceCitation(kind, ref, score="; ".join(p for p in (value, status) if p), **base)
        return self._sample(ref, run, sample_id, base)

    def _sample(self, ref: str, run: Any, sample_id: str, base: dict[str, Any]) -> EvidenceCitation:
        from app.model.results import SampleFilter
        from app.services import results

        rows = results.page_samples(self.session, int(run.id), SampleFilter(sample_id=sample_id), 0, 20)
        if not rows:
            return EvidenceCitation("sample", ref, sample_id=sample_id, score="sample not found in the run", **base)
        scores = ", ".join(_fmt_score(r.score) or "no score" for r in rows)
        label = "score" if len(rows) == 1 else f"scores over {len(rows)} epochs"
        error = "; errored" if any(r.error for r in rows) else ""
        return EvidenceCitation("sample", ref, sample_id=sample_id, epoch=rows[0].epoch if len(rows) == 1 else None,
                                score=f"{label} {scores}{error}", **base)


def _fmt_score(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:g}" if float(value).is_integer() else f"{value:.3f}"


def _run_state(run: Any) -> str:
    return run.status.value + (" (incomplete)" if run.incomplete else "")


def _benchmarks(session: Session, submission_id: int, marking: Marking) -> tuple[BenchmarkRow, ...]:
    """Every imported run, errored and incomplete ones included (flagged, with their counts).
    Imported runs carry no marking of their own: each row takes the submission's marking."""
    from app.services import results

    rows = []
    for run in results.list_runs(session, submission_id):
        common = dict(
            samples=run.completed_samples if run.completed_samples is not None else run.sample_count or None,
            harness=f"{run.harness.value} {run.harness_version}".strip(), run_status=run.status.value,
            marking=marking, run_ref=f"run {run.id}", task_version=run.task_version, epochs=run.epochs,
            total_samples=run.total_samples, errored_samples=run.errored_samples, incomplete=run.incomplete,
            error_message=run.error_message, source_sha256=run.file_sha256,
        )
        metrics = [m for m in run.metrics
                   if not (m.metric in ("stderr", "std", "var") or m.metric.endswith("_stderr"))]
        if not metrics:  # an errored run has no scores: it still appears, flagged
            rows.append(BenchmarkRow(run.benchmark or run.task, run.task, "", None, **common))  # type: ignore[arg-type]
        for m in metrics:
            rows.append(BenchmarkRow(
                run.benchmark or run.task, run.task, m.label, m.value, m.stderr,
                higher_is_better=m.direction.value != "lower", reducer=m.reducer, **common,  # type: ignore[arg-type]
            ))
    return tuple(rows)


def _vulnerabilities(session: Session, submission_id: int) -> tuple[Any, ...] | None:
    from app.services import vulnerabilities

    rows = vulnerabilities.annex_rows(session, submission_id)
    return rows or None


def _signers(session: Session, view: Any) -> tuple[Signer, ...]:
    out = []
    conn = session.db.conn
    for role, username in (("Reviewer", getattr(view, "submitted_by", None)),
                           ("Lead reviewer", getattr(view, "approved_by", None))):
        if username:
            try:
                account = accounts_repo.get(conn, username)
                out.append(Signer(role, account.display_name, username))
            except FrontierError:
                out.append(Signer(role, username, username))
    return tuple(out)


def workstation_code(session: Session) -> str:
    try:
        return pki.fingerprint(pki_service.workstation_ca(session))[:6].upper()
    except NotFound:
        return "WS"


def assemble(session: Session, submission_id: int, version: int | None = None,
             generated_at: datetime | None = None) -> ReportInput:
    """Gather everything the report shows from storage (read-only)."""
    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    sub = submissions_repo.get(conn, submission_id)
    settings = session.settings
    checklist, view = _checklist(session, submission_id)
    when = generated_at or session.clock().astimezone(UTC).replace(microsecond=0)
    version = version or reports_repo.next_version(conn, submission_id)
    seq, head = audit_log.head(conn)
    summary = SubmissionSummary(
        int(sub.id or 0), sub.developer, sub.model_name, sub.version, sub.received, sub.planned_release,
        sub.modality.value, sub.access_method.value, sub.training_flop, sub.compute_estimate.value, sub.marking,
    )
    report = ReportInput(
        title=f"Pre-release review of {sub.display_name}",
        control_number=control_number(workstation_code(session), summary.id, version, when.year),
        submission=summary, generated_at=when, workstation_name=settings.workstation_name,
        audit_head_seq=seq, audit_head_hash=head, version=version, title_marking=UNCLASSIFIED,
        coverage=_coverage(session, submission_id), checklist=checklist,
        findings=_findings(session, submission_id, checklist, view),
        benchmarks=_benchmarks(session, submission_id, sub.marking),
        vulnerabilities=_vulnerabilities(session, submission_id), signers=_signers(session, view),
        review_started=sub.received, review_completed=(datetime.fromisoformat(view.approved_at).date()
                                                       if view is not None and view.approved_at else None),
    )
    from app.services import benchmark_evidence, report_profiles

    report = dataclasses.replace(report, narrative=_narrative(session, submission_id),
                                 profile=report_profiles.active(session),
                                 benchmark_evidence=benchmark_evidence.gather(session, submission_id))
    # Derived portions (the title naming the submission, coverage rows quoting its results) are
    # computed at least as high as their sources before anything is rendered.
    report = report_markings.derive(report)
    return dataclasses.replace(report, **_marking_blocks(report, settings))


def _narrative(session: Session, submission_id: int) -> Narrative:
    from app.services import narrative

    return narrative.get(session, submission_id).narrative


def _marking_blocks(report: ReportInput, settings: Any) -> dict[str, Any]:
    return authority_blocks(report.overall_marking(), list(report.portion_markings()), settings)


def authority_blocks(overall: Marking, portions: Sequence[Marking], settings: Any) -> dict[str, Any]:
    """Authority blocks from the workstation settings, only where the content needs them:
    a classification authority block when the document is classified, a CUI designation block when
    it contains CUI. Missing lines are refused, never invented."""
    blocks: dict[str, Any] = {}
    if overall.level >= Level.CONFIDENTIAL:
        lines = {"Classified By": settings.classified_by, "Derived From": settings.derived_from,
                 "Declassify On": settings.declassify_on}
        missing = [k for k, v in lines.items() if not str(v).strip()]
        if missing:
            raise ValidationError("classification authority block",
                                  f"the document is marked {overall.banner()}: set "
                                  f"{', '.join(repr(m) for m in missing)} in the workstation settings first")
        blocks["classification_block"] = ClassificationBlock(settings.classified_by, settings.derived_from,
                                                             settings.declassify_on)
    has_cui = any(m.level == Level.CUI for m in portions)
    if has_cui:
        if not str(settings.cui_controlled_by).strip() or not str(settings.cui_category).strip():
            if overall.level == Level.CUI:
                raise ValidationError("CUI designation block", "the document contains CUI: set 'Controlled by' and "
                                      "the CUI category in the workstation settings first")
        else:
            blocks["cui_block"] = CuiBlock(settings.cui_controlled_by, settings.cui_category, "", settings.cui_poc)
    return blocks


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


def export(session: Session, report_id: int, destination: Path, media_label: str, passphrase: str,
           pin: str | None = None, progress: Progress | None = None) -> ExportOutcome:
    """Write the countersigned report and its companions to removable media (audited report.export)."""
    session.require(Permission.EXPORT)
    report = reports_repo.get(session.db.conn, report_id)
    _require_signed_marking(session, report)
    content = Marking.parse(report.marking)
    cleared = egress.clear(session, f"the report {report.control_number}", content, media_label, destination,
                           refused_as=("report.export_refused", "report", report_id))
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
