"""The marked findings PDF: banners and portion marks on every page, contents, fonts, determinism."""

from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path

import pytest

from app.model.errors import Cancelled, ValidationError
from app.model.findings import Severity
from app.model.markings import Marking
from app.model.report import Portion, ReportFinding
from reports.pdf import SIG_FIELD_LEAD, SIG_FIELD_REVIEWER, build_pdf
from reports.sample import sample_input

MARK = re.compile(r"^\((U|CUI|C|S|TS)(//[A-Z ]+)*\) ")


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    report = sample_input(40)
    result = build_pdf(report)
    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    path.write_bytes(result.data)
    return report, result, path


def test_banner_page_numbers_and_control_number_on_every_page(built) -> None:  # type: ignore[no-untyped-def]
    report, result, path = built
    pages = _pages(path)
    assert len(pages) == result.pages > 10
    for n, page in enumerate(pages, start=1):
        lines = [ln.strip() for ln in page.splitlines() if ln.strip()]
        assert lines[0] == "SECRET//NOFORN", f"page {n} top banner: {lines[0]!r}"
        assert lines[-1] == "SECRET//NOFORN", f"page {n} bottom banner: {lines[-1]!r}"
        assert f"Page {n} of {len(pages)}" in page
        assert f"Control No. {report.control_number}" in page
        body = lines[1:-2]  # without banners and the footer line
        assert any(MARK.match(ln) for ln in body), f"page {n} has no portion mark"


def test_overall_marking_is_the_rollup_of_portions() -> None:
    cui = Marking.parse("CUI")
    base = sample_input(3, secret=False)
    assert base.overall_marking().banner() == "CUI"
    higher = dataclasses.replace(base, executive_summary=(Portion("secret detail", Marking.parse("(C//NF)")),))
    with pytest.raises(ValidationError, match="classification authority block"):
        build_pdf(higher)  # classified content without a classification authority block is refused
    assert higher.overall_marking().banner() == "CONFIDENTIAL//NOFORN"
    result = build_pdf(base)
    assert result.marking == cui
    assert b"CUI" in result.data


def test_every_portion_carries_its_mark(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report, _result, path = built
    text = " ".join(" ".join(_pages(path)).split())
    for f in report.findings:
        assert f"{f.marking.portion()} {f.id} {f.title}" in text
        assert f"{f.marking.portion()} During the capture-the-flag evaluation" in text
    assert text.count("Recommendation:") == len(report.findings)
    for section in report.checklist:
        for item in section.items:
            assert f"{item.marking.portion()} {item.id}" in text
    for row in report.benchmarks:
        assert f"{row.marking.portion()} {row.benchmark[:5]}" in text  # cells may wrap
    assert "(S//NF) Figure 1: Scores on a 0-1 scale" in text
    assert "(S//NF) Table" in text and "(U) Table 1: Submission details" in text
    assert report.audit_head_hash in text.replace(" ", "")


def test_contents_page_numbers_match_the_headings(built) -> None:  # type: ignore[no-untyped-def]
    _report, _result, path = built
    pages = _pages(path)
    toc = {}
    for line in pages[1].splitlines():
        m = re.match(r"\s*(\(U\) .+?)\s+(\d+)$", line)
        if m:
            toc[m.group(1).strip()] = int(m.group(2))
    assert "(U) 3. Findings" in toc and "(U) 8. Signatures" in toc and "(U) Annex A. Vulnerabilities" in toc
    assert "(U) Annex B. Full checklist" in toc
    for title, page in toc.items():
        assert title in pages[page - 1], f"{title} not on page {page}"


def test_fonts_are_embedded(built) -> None:  # type: ignore[no-untyped-def]
    _r, _res, path = built
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = out.splitlines()[2:]
    assert rows, out
    for row in rows:
        assert "DejaVu" in row and " yes yes " in row, row


def test_banner_colour_rendered_on_every_page(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _r, result, path = built
    subprocess.run(["pdftoppm", "-r", "20", str(path), str(tmp_path / "p")], check=True)
    files = sorted(tmp_path.glob("p-*.ppm"))
    assert len(files) == result.pages
    for f in files:
        data = f.read_bytes()
        header = data.split(b"\n", 3)
        w, h = map(int, header[1].split())
        pixels = header[3]
        for y in (int(h * 0.045), int(h * 0.955)):  # inside the top and bottom banner bands
            x = int(w * 0.2)
            r, g, b = pixels[(y * w + x) * 3:(y * w + x) * 3 + 3]
            assert r > 150 and g < 80 and b < 90, (f.name, y, (r, g, b))  # SECRET red


def test_same_input_same_bytes_and_signature_boxes() -> None:
    report = sample_input(5)
    a, b = build_pdf(report), build_pdf(report)
    assert a.data == b.data and a.sha256 == b.sha256
    c = build_pdf(dataclasses.replace(report, control_number="FRW-TEST-2026-00017-V2"))
    assert c.data != a.data
    assert set(a.signature_boxes) == {SIG_FIELD_REVIEWER, SIG_FIELD_LEAD}
    assert 1 <= a.signature_page <= a.pages
    # Dates come from the input, never from the clock.
    assert b"D:20261120143000" in a.data


def test_untrusted_text_is_shown_literally(tmp_path: Path) -> None:
    evil = ReportFinding("F-900", "Title with <b>markup</b> & \x07bell", "Line <script>alert(1)</script>",
                         Severity.HIGH)
    report = dataclasses.replace(sample_input(1), findings=(evil,))
    path = tmp_path / "r.pdf"
    path.write_bytes(build_pdf(report).data)
    text = " ".join(_pages(path))
    assert "<b>markup</b> & bell" in text
    assert "<script>alert(1)</script>" in text


def test_cancel_stops_the_build() -> None:
    calls: list[tuple[int, int]] = []
    with pytest.raises(Cancelled):
        build_pdf(sample_input(60), progress=lambda d, t, _m: calls.append((d, t)), cancel=lambda: len(calls) > 0)
    done: list[tuple[int, int, str]] = []
    build_pdf(sample_input(2), progress=lambda d, t, m: done.append((d, t, m)))
    assert done and done[-1][0] == done[-1][1]


def test_same_bytes_in_another_process() -> None:
    import hashlib
    import os
    import sys

    code = ("import hashlib; from reports.sample import sample_input; from reports.pdf import build_pdf; "
            "print(hashlib.sha256(build_pdf(sample_input(7)).data).hexdigest())")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(Path(__file__).parents[2])}
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert other.stdout.strip() == hashlib.sha256(build_pdf(sample_input(7)).data).hexdigest()


def test_many_checklist_sections_still_fit_the_contents_page() -> None:
    from app.model.report import ChecklistItem, ChecklistSection

    report = sample_input(2)
    sections = tuple(ChecklistSection(f"S{i:02d}", f"Section {i}", (ChecklistItem(f"S{i:02d}-1", "Item", "satisfied"),))
                     for i in range(60))
    result = build_pdf(dataclasses.replace(report, checklist=sections))
    assert result.pages > 5


def test_a_justification_longer_than_a_page_continues_on_the_next() -> None:
    report = sample_input(2)
    first = report.checklist[0]
    long_item = dataclasses.replace(first.items[0], justification="evidence reviewed " * 2500)
    sections = (dataclasses.replace(first, items=(long_item, *first.items[1:])), *report.checklist[1:])
    short = build_pdf(report)
    result = build_pdf(dataclasses.replace(report, checklist=sections))
    assert result.pages >= short.pages + 5
