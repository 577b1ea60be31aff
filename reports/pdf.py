"""The findings report as a marked PDF (reportlab), from a ReportInput only.

Same input, same bytes: reportlab runs in invariant mode and every date comes from the input.
Every portion (title, paragraph, table, figure) starts with its portion mark; the banner is the
roll-up of all portion markings (ReportInput.overall_marking), never typed in. The report
profile (app.model.report_profile) chooses the order of the sections and which optional ones
appear; sections are numbered in the order they are printed.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from reportlab.lib.units import inch
from reportlab.platypus import BaseDocTemplate, Frame, PageBreak, PageTemplate, Spacer

from app.model.errors import Cancelled
from app.model.findings import Severity
from app.model.markings import UNCLASSIFIED, Marking, rollup
from app.model.report import ReportInput
from app.model.report_markings import derive, findings_summary_marking
from app.model.report_profile import ANNEXES, SECTIONS
from reports import pdf_format as fmt
from reports.pdf_benchmark_evidence import flowables as evidence_flowables
from reports.pdf_checklist import appendix, checklist
from reports.pdf_findings import findings
from reports.pdf_markings import (
    FONT,
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MARGIN_X,
    PAGE,
    ContentsPlaceholder,
    JpegLogo,
    PageDecor,
    SignatureBox,
    canvas_class,
    clean,
    marked,
    styles,
)
from reports.pdf_results import results
from reports.pdf_story import Story, text_width

Progress = Callable[[int, int, str], None]

SIG_FIELD_REVIEWER = "ReviewerSignature"
SIG_FIELD_LEAD = "LeadCountersignature"
PRODUCER = "Frontier Review Workstation"
_U = UNCLASSIFIED


@dataclass(frozen=True)
class BuiltPdf:
    data: bytes
    pages: int
    marking: Marking
    sha256: str
    signature_page: int  # 1-based
    signature_boxes: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)



def _cover(s: Story, r: ReportInput, overall: Marking) -> None:
    st = s.st
    sub = r.submission
    if r.profile.logo_jpeg:
        s.add(JpegLogo(r.profile.logo_jpeg, 1.1 * inch), Spacer(1, 0.2 * inch))
    else:
        s.add(Spacer(1, 0.6 * inch))
    s.add(marked(r.title_marking, r.title, st.title))
    if r.profile.cover_text:
        s.add(marked(_U, r.profile.cover_text, st.cover))
    s.add(Spacer(1, 0.25 * inch))
    lines = [
        (sub.marking, f"Submission #{sub.id}: {sub.display_name}"),
        (_U, f"Received {fmt.day(sub.received)} · planned public release {fmt.day(sub.planned_release)}"),
    ]
    period = fmt.period(r.review_started, r.review_completed, r.generated_at.date())
    if period:
        lines.append((_U, f"Review period {period}"))
    lines += [
        (_U, f"Report version {r.version} · generated {fmt.timestamp(r.generated_at)} on {r.workstation_name}"),
        (_U, f"Control number {r.control_number}"),
    ]
    for marking, text in lines:
        s.add(marked(marking, text, st.cover))
    s.add(Spacer(1, 0.3 * inch))
    s.add(marked(_U, f"Overall classification of this document: <b>{clean(overall.banner())}</b> "
                     "(the highest marking of its portions)", st.cover, markup=True))
    s.add(Spacer(1, 0.5 * inch))
    s.authority_blocks(r.classification_block, r.cui_block, space_after=10)
    s.add(PageBreak())


def _glance(r: ReportInput) -> list[tuple[Marking, str]]:
    """Generated counts: what the record says, in one line each (zero counts omitted). Each count is
    marked as high as what it counts (derivative marking)."""
    out: list[tuple[Marking, str]] = []
    counts = {sev: sum(1 for f in r.findings if f.severity is sev) for sev in Severity}
    by_sev = ", ".join(f"{fmt.count(n)} {sev.value}" for sev, n in counts.items() if n)
    noun = "finding" if len(r.findings) == 1 else "findings"
    out.append((findings_summary_marking(r), f"This report records {fmt.count(len(r.findings))} {noun}"
                    + (f" ({by_sev})" if by_sev else "") + f" from the review of submission #{r.submission.id}."))
    if r.coverage:
        out.append((r.coverage.marking, f"Coverage determination: {r.coverage.outcome}."))
    statuses: dict[str, int] = {}
    for section in r.checklist:
        for item in section.items:
            key = item.status.split(" (", 1)[0]
            statuses[key] = statuses.get(key, 0) + 1
    if statuses:
        out.append((rollup(i.marking for sec in r.checklist for i in sec.items),
                    "Checklist: " + ", ".join(f"{fmt.count(n)} {k}" for k, n in sorted(statuses.items())) + "."))
    flagged = [b for b in r.benchmarks if b.flagged]
    if r.benchmarks:
        runs = len({b.run_ref or id(b) for b in r.benchmarks})
        extra = f", {fmt.count(len({b.run_ref or id(b) for b in flagged}))} of them not finished cleanly" if flagged \
            else ""
        out.append((rollup(b.marking for b in r.benchmarks),
                    f"Benchmark evidence: {fmt.count(runs)} imported run{'s' if runs != 1 else ''}{extra}."))
    return out


def _summary(s: Story, r: ReportInput, num: str) -> None:
    s.heading(1, f"{num} Executive summary")
    n = r.narrative
    sub = num.rstrip(".")
    k = 0
    if n.bottom_line.strip():
        k += 1
        s.heading(2, f"{sub}.{k} Bottom line", n.bottom_line_marking, toc=False)
        s.rich(n.bottom_line_marking, n.bottom_line)
    if n.judgments:
        k += 1
        s.heading(2, f"{sub}.{k} Key judgments", rollup(j.marking for j in n.judgments), toc=False)
        for i, j in enumerate(n.judgments, start=1):
            s.rich(j.marking, j.text, lead=f"KJ-{i} ({j.confidence.label}).")
    if n.recommendations.strip():
        k += 1
        s.heading(2, f"{sub}.{k} Recommendations", n.recommendations_marking, toc=False)
        s.rich(n.recommendations_marking, n.recommendations)
    if k:
        k += 1
        s.heading(2, f"{sub}.{k} The review at a glance", toc=False)
    for marking, text in _glance(r):
        s.para(marking, text)
    for p in r.executive_summary:
        s.para(p.marking, p.text)


def _submission(s: Story, r: ReportInput, num: str) -> None:
    sub = r.submission
    s.heading(1, f"{num} Submission")
    flop = ""
    if sub.training_flop:
        flop = fmt.scientific(sub.training_flop, "FLOP") + (f" ({sub.compute_estimate})" if sub.compute_estimate
                                                              else "")
    rows = [
        ["Developer", sub.developer], ["Model", sub.model_name], ["Version", sub.version],
        ["Modality", sub.modality], ["Access", sub.access_method],
        ["Received", fmt.day(sub.received)], ["Planned public release", fmt.day(sub.planned_release)],
        ["Review window", f"{fmt.count((sub.planned_release - sub.received).days)} days"],
        ["Training compute", flop],
    ]
    s.table(sub.marking, "Submission details", ["Field", "Value"], [x for x in rows if str(x[1]).strip()],
            widths=[1.8 * inch, text_width() - 1.8 * inch])


def _coverage(s: Story, r: ReportInput, num: str) -> None:
    s.heading(1, f"{num} Coverage determination")
    cov = r.coverage
    if cov is None:
        s.para(_U, "No coverage determination has been recorded for this submission.")
        return
    s.para(cov.marking, f"Outcome: {cov.outcome}. {cov.rationale}".strip())
    s.para(_U, f"Rule set {cov.rule_set}, SHA-256 {cov.rule_set_sha256}.")
    if cov.approved_by:
        s.para(_U, f"Approved by {cov.approved_by}" + (f" on {cov.approved_at}." if cov.approved_at else "."))
    if cov.rows:
        s.table(rollup(x.marking for x in cov.rows), "Coverage rules applied, rule by rule",
                ["Mark", "Rule", "Inputs", "Threshold", "Outcome"],
                [[x.marking.portion(), x.rule, x.inputs, x.threshold, x.outcome] for x in cov.rows],
                weights=[0, 2.6, 3, 2.2, 2.2])


def _benchmark_evidence(s: Story, r: ReportInput, num: str) -> None:
    """Intervals with n and method, conformance deviations, the plan and the capability trend."""
    ev = r.benchmark_evidence
    assert ev is not None  # build_pdf leaves the section out when nothing was gathered
    s.heading(1, f"{num} Benchmark evidence")
    s.add(*evidence_flowables(ev, s.st, text_width()))


def _integrity(s: Story, r: ReportInput, num: str) -> None:
    s.heading(1, f"{num} Integrity")
    s.para(_U, f"Audit-chain head when this report was built: event {fmt.count(r.audit_head_seq)}, SHA-256 "
               f"{r.audit_head_hash}. An auditor can compare it with the workstation's audit trail; any edit, "
               "deletion or reordering of earlier events changes this value.")
    if r.profile.sha256:
        s.para(_U, f"Layout: report profile {r.profile.name} ({r.profile.label}), SHA-256 {r.profile.sha256}.")


def _signatures(s: Story, r: ReportInput, num: str) -> None:
    s.add(PageBreak())
    s.heading(1, f"{num} Signatures")
    s.para(_U, "This report is signed electronically (PAdES baseline B-B, ECDSA P-256). The reviewer signs; "
               "the lead reviewer countersigns as an incremental update, so the reviewer's signature stays "
               "verifiable. Signing times are the signing workstation's local clock: no time-stamping authority "
               "exists on an isolated network. Each box below shows its signature once it is applied; a box that "
               "is empty has not been signed.")
    names = {sg.role: sg for sg in r.signers}
    record = [f"submitted by {sg.name} ({sg.username})" for sg in (names.get("Reviewer"),) if sg]
    record += [f"approved by {sg.name} ({sg.username})" for sg in (names.get("Lead reviewer"),) if sg]
    if record:
        # A fact of the assessment record, true whoever signs; the signers' names appear in their boxes.
        s.para(_U, f"The assessment was {' and '.join(record)}.")
    for field_name, label in ((SIG_FIELD_REVIEWER, "Reviewer signature"),
                              (SIG_FIELD_LEAD, "Lead reviewer countersignature")):
        s.add(SignatureBox(s.decor, field_name, label, 3.6 * inch), Spacer(1, 10))


Section = Callable[[Story, ReportInput, str], None]
_SECTIONS: dict[str, Section] = {
    "summary": _summary, "submission": _submission, "findings": findings, "coverage": _coverage,
    "results": results, "benchmark_evidence": _benchmark_evidence, "checklist": checklist, "integrity": _integrity,
    "signatures": _signatures,
}
assert set(_SECTIONS) == set(SECTIONS)


def _annexes(s: Story, r: ReportInput) -> None:
    letters = iter("ABCDEFGH")
    for name in r.profile.annexes:
        if name == "vulnerabilities" and r.vulnerabilities is None:
            continue
        s.add(PageBreak())
        title = f"Annex {next(letters)}. {ANNEXES[name]}"
        if name == "vulnerabilities":
            _vulnerabilities(s, r, title)
        else:
            appendix(s, r, title)


def _vulnerabilities(s: Story, r: ReportInput, title: str) -> None:
    s.heading(1, title)
    if not r.vulnerabilities:
        s.para(_U, "No vulnerabilities were recorded.")
        return
    s.table(rollup(v.marking for v in r.vulnerabilities), "Vulnerabilities logged during the review",
            ["Mark", "ID", "Title", "Severity", "Score", "Status", "CWE"],
            [[v.marking.portion(), v.id, v.title, v.severity, v.score, v.status, v.cwe] for v in r.vulnerabilities],
            weights=[0, 0, 4, 1, 3, 2, 1])


def build_pdf(report: ReportInput, progress: Progress | None = None,
              cancel: Callable[[], bool] | None = None) -> BuiltPdf:
    """Render the report. Raises ValidationError for incomplete input, Cancelled when asked to stop."""
    report = derive(report).validate()  # derived portions (title, coverage rows) never below their sources
    overall = report.overall_marking()
    st = styles()
    profile = report.profile
    note = " · ".join(p for p in (profile.footer_text or PRODUCER, f"report v{report.version}") if p)
    decor = PageDecor(overall, report.control_number, note, report.generated_at, header=profile.header_text)
    s = Story(decor, st)
    _cover(s, report, overall)
    s.heading(1, "Contents", toc=False)
    at = len(s.items)
    # the benchmark evidence section is left out (and not numbered) when the input carries none
    sections = [x for x in profile.sections if x != "benchmark_evidence" or report.benchmark_evidence is not None]
    for n, name in enumerate(sections, start=1):
        _SECTIONS[name](s, report, f"{n}.")
    _annexes(s, report)
    # The contents placeholder goes in once the number of entries is known (one page of them).
    s.items[at:at] = [ContentsPlaceholder(decor, len(decor.headings)), PageBreak()]

    out = io.BytesIO()
    doc = BaseDocTemplate(
        out, pagesize=PAGE, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM, title=f"{report.title_marking.portion()} {report.title}", author=PRODUCER,
        subject=f"{overall.banner()} · control number {report.control_number}", creator=PRODUCER, producer=PRODUCER,
        invariant=1, initialFontName=FONT, lang="en-US",
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body", leftPadding=0,
                  rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    total = len(s.items)

    def on_progress(kind: str, value: int) -> None:
        if kind == "PROGRESS":
            if cancel is not None and cancel():
                raise Cancelled("Report build")
            if progress is not None and value % 50 == 0:
                progress(value, total, "laying out pages")

    doc.setProgressCallBack(on_progress)
    doc.build(s.items, canvasmaker=canvas_class(decor))
    data = out.getvalue()
    if progress is not None:
        progress(total, total, f"{decor.pages} pages")
    return BuiltPdf(data, decor.pages, overall, hashlib.sha256(data).hexdigest(), decor.signature_page,
                    dict(decor.signature_boxes))
