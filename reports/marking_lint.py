"""Read a built report back and check its portion marks (issue 12): no portion may quote a value
from a higher-marked source. The rules live in app.model.report_markings; this reads the PDF."""

from __future__ import annotations

import io

from pypdf import PdfReader

from app.model.printable import PrintableInput
from app.model.report import ReportInput
from app.model.report_markings import lint, lint_printable


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def lint_pdf(report: ReportInput, data: bytes) -> list[str]:
    return lint(report, pdf_text(data))


def lint_printable_pdf(doc: PrintableInput, data: bytes) -> list[str]:
    return lint_printable(doc, pdf_text(data))
