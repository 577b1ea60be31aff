"""Printable working documents as marked PDFs: the checklist, the findings register and the
vulnerability register (issue 12, point 4).

They share the report's page furniture (reports.pdf_markings: banners at the top and bottom of
every page at the document's overall marking, reference and "Page X of Y"), its story (portion
mark on every heading, paragraph and table caption) and its sections (the checklist tables and
findings of reports.pdf_checklist and reports.pdf_findings), so a printed checklist reads like
the report's annex. Same input, same bytes.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Spacer

from app.model.markings import UNCLASSIFIED, Marking, rollup
from app.model.printable import DocumentKind, PrintableInput
from reports import pdf_format as fmt
from reports.pdf_checklist import every_item, status_matrix
from reports.pdf_findings import register
from reports.pdf_markings import FONT, MARGIN_BOTTOM, MARGIN_TOP, MARGIN_X, PAGE, PageDecor, canvas_class, styles
from reports.pdf_story import Story

PRODUCER = "Frontier Review Workstation"
_U = UNCLASSIFIED


@dataclass(frozen=True)
class PrintedPdf:
    data: bytes
    pages: int
    marking: Marking
    sha256: str


def _head(s: Story, doc: PrintableInput, overall: Marking) -> None:
    s.heading(1, doc.title, doc.title_marking, toc=False)
    s.para(_U, f"Printed from {doc.workstation_name} by {doc.printed_by} on {fmt.timestamp(doc.generated_at)}; "
               f"reference {doc.reference}.")
    for marking, text in doc.facts:
        s.para(marking, text)
    s.para(_U, f"Overall classification of this document: {overall.banner()} (the highest marking of its portions).")
    s.authority_blocks(doc.classification_block, doc.cui_block, space_after=8)


def _checklist(s: Story, doc: PrintableInput) -> None:
    if not any(sec.items for sec in doc.checklist):
        s.para(_U, "No checklist answers are recorded.")
        return
    status_matrix(s, doc.checklist)
    for sec in doc.checklist:
        if sec.items:
            s.heading(2, f"{sec.id} {sec.title}", rollup(i.marking for i in sec.items), toc=False)
            every_item(s, (sec,))


def _findings(s: Story, doc: PrintableInput) -> None:
    if not doc.findings:
        s.para(_U, "No findings are recorded.")
        return
    register(s, doc.findings)


def _vulnerabilities(s: Story, doc: PrintableInput) -> None:
    if not doc.vulnerabilities:
        s.para(_U, "No vulnerabilities are recorded.")
        return
    s.table(rollup(v.marking for v in doc.vulnerabilities), "Vulnerability register",
            ["Mark", "ID", "Title", "Severity", "Score", "Status", "CWE"],
            [[v.marking.portion(), v.id, v.title, v.severity, v.score, v.status, v.cwe] for v in doc.vulnerabilities],
            weights=[0, 0, 4, 1, 3, 2, 1])


_BODY = {DocumentKind.CHECKLIST: _checklist, DocumentKind.FINDINGS: _findings,
         DocumentKind.VULNERABILITIES: _vulnerabilities}


def build_printable(doc: PrintableInput) -> PrintedPdf:
    overall = doc.overall_marking()
    decor = PageDecor(overall, doc.reference, doc.kind.label, doc.generated_at)
    s = Story(decor, styles())
    _head(s, doc, overall)
    _BODY[doc.kind](s, doc)
    s.add(Spacer(1, 4))
    s.para(_U, "End of document.")
    out = io.BytesIO()
    pdf = BaseDocTemplate(
        out, pagesize=PAGE, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM, title=f"{doc.title_marking.portion()} {doc.title}", author=PRODUCER,
        subject=f"{overall.banner()} · {doc.reference}", creator=PRODUCER, producer=PRODUCER,
        invariant=1, initialFontName=FONT, lang="en-US",
    )
    frame = Frame(pdf.leftMargin, pdf.bottomMargin, pdf.width, pdf.height, id="body", leftPadding=0,
                  rightPadding=0, topPadding=0, bottomPadding=0)
    pdf.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    pdf.build(s.items, canvasmaker=canvas_class(decor))
    data = out.getvalue()
    return PrintedPdf(data, decor.pages, overall, hashlib.sha256(data).hexdigest())
