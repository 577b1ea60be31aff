"""A printed register keeps every portion mark whole: long unbreakable values (a CVSS v4 vector)
wrap inside their own column instead of squeezing the mark column until "(S//NF)" splits across
lines (which also made the marking lint fail on the printed text)."""

from __future__ import annotations

from datetime import UTC, datetime

from reportlab.pdfbase.pdfmetrics import stringWidth

from app.model.markings import Marking
from app.model.printable import DocumentKind, PrintableInput
from app.model.report import ClassificationBlock, VulnerabilityRow
from app.model.report_markings import lint_printable, portions
from reports.marking_lint import pdf_text
from reports.pdf_printable import build_printable
from reports.pdf_story import CELL_PAD, CELL_SIZE, FONT, fit_widths, text_width

VECTOR = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A/CR:H/IR:H/AR:H/MAV:N"
MARKS = ["(S//NF)", "(CUI)", "(U)", "(C//REL TO USA, GBR)", "(TS//SI//NF)"]


def test_a_register_with_vectors_prints_every_mark_whole_and_lints_clean() -> None:
    rows = tuple(VulnerabilityRow(f"FRW-VULN-2026-{i:04d}", f"Heap overflow {i} in parser (Vendor, Product)",
                                  "Critical", f"9.3 ({VECTOR})", "confirmed; TLP:AMBER", "CWE-787",
                                  Marking.parse(MARKS[i % len(MARKS)]))
                 for i in range(12))
    doc = PrintableInput(DocumentKind.VULNERABILITIES, "Vulnerability register", Marking.parse("(U)"), "REF",
                         datetime(2026, 12, 2, tzinfo=UTC), "Bench", "admin", vulnerabilities=rows,
                         classification_block=ClassificationBlock("Rita Reviewer", "Multiple Sources", "20511231"))
    text = pdf_text(build_printable(doc).data)
    marks = [m.portion() for m, _body in portions(text)]
    for mark in MARKS:
        assert mark in marks, f"{mark} not printed whole; printed marks: {sorted(set(marks))}"
    assert lint_printable(doc, text) == []


def test_only_columns_with_long_words_give_way_when_nothing_fits() -> None:
    header = ["Mark", "ID", "Score"]
    rows = [["(S//NF)", "FRW-VULN-2026-0001", f"9.3 ({VECTOR} {VECTOR})"]]
    total = text_width()
    cols = fit_widths(header, rows, total, [0, 0, 1])
    assert abs(sum(cols) - total) < 0.01
    for i in (0, 1):  # the short columns keep their words whole; the vector column wraps
        assert cols[i] >= stringWidth(rows[0][i], FONT, CELL_SIZE) + 2 * CELL_PAD, (i, cols)
