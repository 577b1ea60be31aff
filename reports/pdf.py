"""The findings report as a marked PDF (reportlab), from a ReportInput only.

Same input, same bytes: reportlab runs in invariant mode and every date comes from the input.
Every portion (title, paragraph, table, figure) starts with its portion mark; the banner is the
roll-up of all portion markings (ReportInput.overall_marking), never typed in.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from reportlab.lib import colors
from reportlab.lib.units import inch
from reportlab.platypus import BaseDocTemplate, Frame, PageBreak, PageTemplate, Paragraph, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from app.model.errors import Cancelled
from app.model.markings import UNCLASSIFIED, Marking, rollup
from app.model.report import BenchmarkRow, ReportInput, Severity
from reports.pdf_charts import bar_chart
from reports.pdf_markings import (
    FONT,
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MARGIN_X,
    PAGE,
    ContentsPlaceholder,
    Heading,
    HeadingMark,
    PageDecor,
    SignatureBox,
    Styles,
    canvas_class,
    clean,
    marked,
    styles,
)

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


class _Story:
    """Collects flowables and the headings that go into the contents."""

    def __init__(self, decor: PageDecor, st: Styles) -> None:
        self.decor = decor
        self.st = st
        self.items: list[Flowable] = []
        self.table_no = 0
        self.figure_no = 0

    def add(self, *flowables: Flowable) -> None:
        self.items.extend(flowables)

    def heading(self, level: int, text: str, marking: Marking = _U, toc: bool = True) -> None:
        label = f"{marking.portion()} {text}"
        if toc:
            h = Heading(level, label)
            self.decor.headings.append(h)
            self.items.append(HeadingMark(self.decor, h))
        style = {1: self.st.h1, 2: self.st.h2}.get(level, self.st.h3)
        self.items.append(Paragraph(clean(label), style))

    def para(self, marking: Marking, text: str) -> None:
        for chunk in [c for c in (text or "").split("\n\n") if c.strip()] or [""]:
            self.items.append(marked(marking, chunk.replace("\n", " "), self.st.body))

    def caption(self, kind: str, marking: Marking, text: str) -> None:
        if kind == "Table":
            self.table_no += 1
            n = self.table_no
        else:
            self.figure_no += 1
            n = self.figure_no
        self.items.append(marked(marking, f"{kind} {n}: {text}", self.st.caption))

    def table(self, marking: Marking, caption: str, header: list[str], rows: Sequence[Sequence[object]],
              widths: list[float]) -> None:
        """A portion-marked table: caption with the table's roll-up marking, header repeated on each page."""
        self.caption("Table", marking, caption)
        cell, bold = self.st.cell, self.st.cell_bold
        data: list[list[object]] = [[Paragraph(clean(h), bold) for h in header]]
        for r in rows:
            data.append([v if isinstance(v, Flowable) else Paragraph(clean(str(v)), cell) for v in r])
        # splitInRow: a row taller than a page (a long justification) continues on the next page.
        t = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT", splitInRow=1)
        t.setStyle(TableStyle([
            ("FONTNAME", (0, 0), (-1, -1), FONT),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e9ef")),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa3b0")),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]))
        self.items.append(t)
        self.items.append(Spacer(1, 6))


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "—"
    return f"{value:.{digits}f}" if abs(value) < 1e6 else f"{value:.3e}"


def _width() -> float:
    return PAGE[0] - 2 * MARGIN_X


def _cover(s: _Story, r: ReportInput, overall: Marking) -> None:
    st = s.st
    sub = r.submission
    s.add(Spacer(1, 0.6 * inch))
    s.add(marked(r.title_marking, r.title, st.title))
    s.add(marked(_U, "Findings report of a voluntary pre-release model review", st.cover))
    s.add(Spacer(1, 0.25 * inch))
    lines = [
        (sub.marking, f"Submission #{sub.id}: {sub.display_name}"),
        (_U, f"Received {sub.received.isoformat()} · planned public release {sub.planned_release.isoformat()}"),
        (_U, f"Report version {r.version} · generated {r.generated_at:%Y-%m-%d %H:%M} UTC on {r.workstation_name}"),
        (_U, f"Control number {r.control_number}"),
    ]
    if r.review_started or r.review_completed:
        span = " to ".join(d.isoformat() for d in (r.review_started, r.review_completed) if d)
        lines.append((_U, f"Review period {span}"))
    for marking, text in lines:
        s.add(marked(marking, text, st.cover))
    s.add(Spacer(1, 0.3 * inch))
    s.add(marked(_U, f"Overall classification of this document: <b>{clean(overall.banner())}</b> "
                     "(the highest marking of its portions)", st.cover, markup=True))
    s.add(Spacer(1, 0.5 * inch))
    blocks: list[tuple[str, list[tuple[str, str]]]] = []
    if r.classification_block:
        blocks.append(("Classification authority", r.classification_block.lines()))
    if r.cui_block:
        blocks.append(("CUI designation indicator", r.cui_block.lines()))
    for title, rows in blocks:
        data = [[Paragraph(f"<b>{clean(k)}:</b>", st.cell), Paragraph(clean(v), st.cell)] for k, v in rows]
        t = Table(data, colWidths=[1.9 * inch, 3.2 * inch], hAlign="LEFT")
        t.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.6, colors.black),
                               ("FONTNAME", (0, 0), (-1, -1), FONT),
                               ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
        s.add(Paragraph(clean(title), st.caption), t, Spacer(1, 10))
    s.add(PageBreak())


MAX_TOC_SECTIONS = 28  # the contents must fit on one page; beyond this, checklist sections are left out


def _toc_sections(r: ReportInput) -> bool:
    return len(r.checklist) <= MAX_TOC_SECTIONS


def _toc_entries(r: ReportInput) -> int:
    n = 8 + (len(r.checklist) if _toc_sections(r) else 0)
    return n + (1 if r.vulnerabilities is not None else 0)


def _executive_summary(s: _Story, r: ReportInput) -> None:
    s.heading(1, "1. Executive summary")
    counts = {sev: 0 for sev in Severity}
    for f in r.findings:
        counts[f.severity] += 1
    summary = ", ".join(f"{counts[sev]} {sev.value}" for sev in Severity)
    s.para(_U, f"This report records {len(r.findings)} findings ({summary}) from the review of "
               f"submission #{r.submission.id}.")
    if r.coverage:
        s.para(r.coverage.marking, f"Coverage determination: {r.coverage.outcome}.")
    statuses: dict[str, int] = {}
    for section in r.checklist:
        for item in section.items:
            statuses[item.status] = statuses.get(item.status, 0) + 1
    if statuses:
        s.para(_U, "Checklist: " + ", ".join(f"{n} {k}" for k, n in sorted(statuses.items())) + ".")
    for p in r.executive_summary:
        s.para(p.marking, p.text)


def _submission(s: _Story, r: ReportInput) -> None:
    sub = r.submission
    s.heading(1, "2. Submission")
    flop = f"{sub.training_flop:.3g} operations ({sub.compute_estimate or 'estimate not stated'})" \
        if sub.training_flop else "not stated"
    rows = [
        ["Developer", sub.developer], ["Model", sub.model_name], ["Version", sub.version],
        ["Modality", sub.modality or "—"], ["Access", sub.access_method or "—"],
        ["Received", sub.received.isoformat()], ["Planned public release", sub.planned_release.isoformat()],
        ["Review window", f"{(sub.planned_release - sub.received).days} days"],
        ["Training compute", flop],
    ]
    s.table(sub.marking, "Submission details", ["Field", "Value"], rows, [1.8 * inch, _width() - 1.8 * inch])


def _coverage(s: _Story, r: ReportInput) -> None:
    s.heading(1, "3. Coverage determination")
    cov = r.coverage
    if cov is None:
        s.para(_U, "No coverage determination has been recorded for this submission.")
        return
    s.para(cov.marking, f"Outcome: {cov.outcome}. {cov.rationale}")
    s.para(_U, f"Rule set {cov.rule_set}, SHA-256 {cov.rule_set_sha256}.")
    if cov.approved_by:
        s.para(_U, f"Approved by {cov.approved_by} on {cov.approved_at}.")
    if cov.rows:
        w = _width() - 0.55 * inch
        s.table(rollup(x.marking for x in cov.rows), "Coverage rules applied, rule by rule",
                ["Mark", "Rule", "Inputs", "Threshold", "Outcome"],
                [[x.marking.portion(), x.rule, x.inputs, x.threshold, x.outcome] for x in cov.rows],
                [0.55 * inch, w * 0.26, w * 0.30, w * 0.22, w * 0.22])


def _checklist(s: _Story, r: ReportInput) -> None:
    s.heading(1, "4. Checklist results")
    if not r.checklist:
        s.para(_U, "No checklist answers are recorded.")
    w = _width() - 0.55 * inch
    for section in r.checklist:
        s.heading(2, f"4.{r.checklist.index(section) + 1} {section.id} {section.title}", toc=_toc_sections(r))
        if not section.items:
            s.para(_U, "No items in this section.")
            continue
        rows: list[list[object]] = [
            [i.marking.portion(), f"{i.id} {i.title}", i.status, i.justification or "—",
             "\n".join(i.evidence) or "—"] for i in section.items
        ]
        s.table(rollup(i.marking for i in section.items), f"{section.id} items: status, justification, evidence",
                ["Mark", "Item", "Status", "Justification", "Evidence"], rows,
                [0.55 * inch, w * 0.24, w * 0.13, w * 0.40, w * 0.23])


def _findings(s: _Story, r: ReportInput) -> None:
    s.heading(1, "5. Findings")
    if not r.findings:
        s.para(_U, "No findings.")
        return
    for f in sorted(r.findings, key=lambda f: (f.severity.rank, f.id)):
        s.heading(3, f"{f.id} {f.title}", f.marking, toc=False)
        refs = f" · checklist {', '.join(f.checklist_refs)}" if f.checklist_refs else ""
        s.para(_U, f"Severity: {f.severity.value}{refs}")
        s.para(f.marking, f.description)
        if f.recommendation:
            s.para(f.marking, f"Recommendation: {f.recommendation}")


def _benchmark_rows(rows: tuple[BenchmarkRow, ...]) -> list[list[object]]:
    out: list[list[object]] = []
    for b in rows:
        value = _fmt(b.value) + (f" ± {_fmt(b.stderr)}" if b.stderr is not None else "")
        out.append([b.marking.portion(), b.benchmark, b.task, b.metric, value,
                    "—" if b.samples is None else str(b.samples), "higher" if b.higher_is_better else "lower",
                    b.run_status, b.harness or "—"])
    return out


def _benchmarks(s: _Story, r: ReportInput) -> None:
    s.heading(1, "6. Benchmark results")
    if not r.benchmarks:
        s.para(_U, "No benchmark results are attached to this review.")
        return
    marking = rollup(b.marking for b in r.benchmarks)
    w = _width() - 0.55 * inch
    s.table(marking, "Benchmark results (value ± standard error; direction: which is better)",
            ["Mark", "Benchmark", "Task", "Metric", "Value", "n", "Better", "Run", "Harness"],
            _benchmark_rows(r.benchmarks),
            [0.55 * inch, w * 0.13, w * 0.17, w * 0.18, w * 0.14, w * 0.06, w * 0.08, w * 0.1, w * 0.14])
    chart = bar_chart(r.benchmarks, _width())
    if chart is not None:
        s.caption("Figure", marking, "Scores on a 0-1 scale")
        s.add(chart, Spacer(1, 8))


def _vulnerabilities(s: _Story, r: ReportInput) -> None:
    if r.vulnerabilities is None:
        return
    s.add(PageBreak())
    s.heading(1, "Annex A. Vulnerabilities")
    if not r.vulnerabilities:
        s.para(_U, "No vulnerabilities were recorded.")
        return
    w = _width() - 0.55 * inch
    s.table(rollup(v.marking for v in r.vulnerabilities), "Vulnerabilities logged during the review",
            ["Mark", "ID", "Title", "Severity", "Score", "Status", "CWE"],
            [[v.marking.portion(), v.id, v.title, v.severity, v.score or "—", v.status or "—", v.cwe or "—"]
             for v in r.vulnerabilities],
            [0.55 * inch, w * 0.12, w * 0.34, w * 0.1, w * 0.2, w * 0.12, w * 0.12])


def _integrity(s: _Story, r: ReportInput) -> None:
    s.heading(1, "7. Integrity")
    s.para(_U, f"Audit-chain head when this report was built: event {r.audit_head_seq}, SHA-256 "
               f"{r.audit_head_hash}. An auditor can compare it with the workstation's audit trail; any edit, "
               "deletion or reordering of earlier events changes this value.")


def _signatures(s: _Story, r: ReportInput, decor: PageDecor) -> None:
    s.add(PageBreak())
    s.heading(1, "8. Signatures")
    s.para(_U, "This report is signed electronically (PAdES baseline B-B, ECDSA P-256). The reviewer signs; "
               "the lead reviewer countersigns as an incremental update, so the reviewer's signature stays "
               "verifiable. Signing times are the signing workstation's local clock: no time-stamping authority "
               "exists on an isolated network.")
    names = {sg.role: sg for sg in r.signers}
    for field_name, role in ((SIG_FIELD_REVIEWER, "Reviewer"), (SIG_FIELD_LEAD, "Lead reviewer")):
        signer = names.get(role)
        who = f"{signer.name} ({signer.username})" if signer else "to be signed"
        s.para(_U, f"{role}: {who}")
        s.add(SignatureBox(decor, field_name, f"{role} signature", 3.6 * inch), Spacer(1, 10))


def build_pdf(report: ReportInput, progress: Progress | None = None,
              cancel: Callable[[], bool] | None = None) -> BuiltPdf:
    """Render the report. Raises ValidationError for incomplete input, Cancelled when asked to stop."""
    report.validate()
    overall = report.overall_marking()
    st = styles()
    decor = PageDecor(overall, report.control_number, f"{PRODUCER} · report v{report.version}",
                      report.generated_at)
    s = _Story(decor, st)
    _cover(s, report, overall)
    s.heading(1, "Contents", toc=False)
    s.add(ContentsPlaceholder(decor, _toc_entries(report)), PageBreak())
    _executive_summary(s, report)
    _submission(s, report)
    _coverage(s, report)
    _checklist(s, report)
    _findings(s, report)
    _benchmarks(s, report)
    _integrity(s, report)
    _signatures(s, report, decor)
    _vulnerabilities(s, report)

    out = io.BytesIO()
    doc = BaseDocTemplate(
        out, pagesize=PAGE, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM, title=f"{overall.banner()} {report.title}", author=PRODUCER,
        subject=f"Control number {report.control_number}", creator=PRODUCER, producer=PRODUCER,
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
