"""Assembling a report's input: everything the findings report shows, gathered read-only from
the services, with derived portions marked at least as high as their sources and the authority
blocks the content needs (refused, never invented, when a setting is missing).

Apart from app/services/reports.py (build, sign, export) so the workflow gate can ask which
settings a report still lacks without importing the module that asks the gate before signing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from app.model import report_markings
from app.model.accounts import Permission
from app.model.errors import FrontierError, NotFound, ValidationError
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
from app.services import pki as pki_service
from app.services.session import Session
from reports import pki
from storage import accounts as accounts_repo
from storage import audit as audit_log
from storage import reports_repo, submissions_repo


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
    from app.services import vuln_signatures
    from storage import vulns_repo

    out: dict[str, list[LinkedVulnerability]] = {}
    found = vulns_repo.for_submission(session.db.conn, submission_id)
    vuln_signatures.require_holding(session, session.db.conn, [v for v in found if v.context.finding_id],
                                    "quoted with the findings")
    for v in found:
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
