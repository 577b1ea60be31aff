"""Printable documents (issue 12, point 4): the checklist, the findings register and the
vulnerability register carry the banner on the first and last line of every page and a portion
mark on every portion; they leave only through the media-label and printer-label checks."""

from __future__ import annotations

import dataclasses
import io
import subprocess
from pathlib import Path

import pytest

from app.model.errors import ValidationError
from app.model.markings import Marking
from app.model.vulnerabilities import DiscoveryContext, Vulnerability
from app.services import audit, printables, printers
from app.services import vulnerabilities as vs
from app.services import workstation as workstation_service
from tests.conftest import WorkstationTemplate, derive_template, restore_template
from tests.unit.test_signing_service import _approved_submission, _configure

SNF = "SECRET//NOFORN"


def _make_reviewed(workstation) -> int:  # type: ignore[no-untyped-def]
    admin = workstation.session("admin")
    _configure(admin)
    # a CUI-only printout carries the CUI designation block
    workstation_service.update_settings(admin, {"cui_controlled_by": "Review Office", "cui_category": "CTI"})
    sid = _approved_submission(workstation)
    rev = workstation.session("reviewer")
    vs.create(rev, Vulnerability(title="Sandbox escape through the range proxy", marking=Marking.parse(SNF),
                                 context=DiscoveryContext(submission_id=sid), cwe="CWE-284"))
    vs.create(rev, Vulnerability(title="Verbose error pages", marking=Marking.parse("CUI"),
                                 context=DiscoveryContext(submission_id=sid)))
    return sid


@pytest.fixture(scope="module")
def reviewed_template(tmp_path_factory: pytest.TempPathFactory,
                      workstation_template: WorkstationTemplate) -> tuple[WorkstationTemplate, int]:
    """The approved submission with its two vulnerabilities, set up once per module (~0.85 s each
    time): every test gets its own copy of the prepared workstation."""
    return derive_template(tmp_path_factory.mktemp("printables-reviewed"), workstation_template, _make_reviewed)


@pytest.fixture
def reviewed(workstation, reviewed_template, memory_keyring) -> int:  # type: ignore[no-untyped-def]
    template, sid = reviewed_template
    restore_template(workstation, template, memory_keyring)
    return sid


def pages_text(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    """The non-empty lines of each page, as pdftotext lays them out."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return [[" ".join(line.split()) for line in page.splitlines() if line.strip()] for page in out.split("\f")
            if page.strip()]


def assert_banners_on_every_page(pages: list[list[str]], banner: str) -> None:
    assert pages
    for n, lines in enumerate(pages, start=1):
        assert lines[0] == banner, (n, lines[:2])
        assert lines[-1] == banner, (n, lines[-2:])


def test_checklist_has_banners_on_every_page_and_portion_marks(workstation, reviewed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    doc = printables.checklist(workstation.session("reviewer"), reviewed)
    assert doc.marking == Marking.parse(SNF) and doc.pages >= 3
    pages = pages_text(doc.pdf, tmp_path)
    assert len(pages) == doc.pages
    assert_banners_on_every_page(pages, SNF)
    text = "\n".join("\n".join(p) for p in pages)
    assert "(U) Assessment checklist: Acme AI Falcon 2.1" in text
    assert "(S//NF) Table 1: Checklist statuses by section" in text
    assert "(S//NF) CAP-02" in text and "CTF solve rate above threshold." in text
    assert "(U) SUB-01" in text and "Checked SUB-01." in text
    assert "Classified By: Rita Reviewer, Review Office" in text  # the authority block of a classified document
    assert "(U) Overall classification of this document: SECRET//NOFORN" in text


def test_findings_register_is_marked_by_what_it_prints(workstation, reviewed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    doc = printables.findings_register(workstation.session("reviewer"), reviewed)
    pages = pages_text(doc.pdf, tmp_path)
    assert_banners_on_every_page(pages, SNF)
    text = "\n".join("\n".join(p) for p in pages)
    assert "(S//NF) F-1 Autonomous exploitation" in text and "(U) F-2 Refusals adequate" in text
    assert "(S//NF) 2 findings recorded for submission" in text


def test_vulnerability_register_whole_and_filtered(workstation, reviewed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rev = workstation.session("reviewer")
    doc = printables.vulnerability_register(rev)
    pages = pages_text(doc.pdf, tmp_path)
    assert_banners_on_every_page(pages, SNF)
    text = "\n".join("\n".join(p) for p in pages)
    assert "(S//NF) Table 1: Vulnerability register" in text
    assert "(S//NF) FRW-VULN-2026-0001 Sandbox escape" in text and "(CUI) FRW-VULN-2026-0002 Verbose error" in text
    only_cui = printables.vulnerability_register(rev, vs.filters(rev, search="Verbose"), "search: Verbose")
    assert only_cui.marking == Marking.parse("CUI")
    assert_banners_on_every_page(pages_text(only_cui.pdf, tmp_path), "CUI")
    assert "Controlled by: Review Office" in "\n".join(pages_text(only_cui.pdf, tmp_path)[0])
    assert "Sandbox" not in "\n".join("\n".join(p) for p in pages_text(only_cui.pdf, tmp_path))


def test_write_checks_the_media_label_and_marks_the_folder(workstation, reviewed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rev = workstation.session("reviewer")
    doc = printables.checklist(rev, reviewed)
    usb = tmp_path / "usb"
    usb.mkdir()
    with pytest.raises(ValidationError, match="media is labelled SECRET;"):
        printables.write(rev, doc, usb / "checklist.pdf", "SECRET")
    assert list(usb.iterdir()) == []
    path = printables.write(rev, doc, usb / "checklist.pdf", SNF)
    assert path.read_bytes() == doc.pdf
    assert (usb / "MARKING.txt").read_text().splitlines()[0] == SNF
    events = [e.action for e in audit.events(workstation.session("auditor"), 50)]
    assert {"egress.refused", "print.export_pdf", "egress.write"} <= set(events)


def test_printing_goes_through_the_printer_check(workstation, reviewed) -> None:  # type: ignore[no-untyped-def]
    admin = workstation.session("admin")
    printers.register(admin, "room3-laser", "CONFIDENTIAL", "Building 2, room 3")
    printers.register(admin, "vault-mfp", SNF, "Vault, room 12")
    rev = workstation.session("reviewer")
    doc = printables.findings_register(rev, reviewed)
    with pytest.raises(ValidationError, match="accredited for CONFIDENTIAL only"):
        printables.clear_print(rev, doc, "room3-laser")
    ok = printables.clear_print(rev, doc, "vault-mfp")
    printables.record_print(rev, doc, ok, 1, f"1-{doc.pages} ({doc.pages} pages)")
    auditor = workstation.session("auditor")
    printed = audit.events(auditor, 50, action_prefix="print.document")
    assert len(printed) == 1 and printed[0].details["kind"] == "findings"
    assert printed[0].details["marking"] == SNF and printed[0].details["printer"] == "vault-mfp"
    refused = audit.events(auditor, 50, action_prefix="print.refused")
    assert refused[0].object_type == "submission" and refused[0].object_id == str(reviewed)


def test_cli_export_pdf(workstation, reviewed, monkeypatch, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from app import cli

    usb = tmp_path / "usb"
    usb.mkdir()
    for args in (["assess", "export-pdf", str(reviewed)], ["finding", "export-pdf", str(reviewed)],
                 ["vuln", "export-pdf", "--submission", str(reviewed)]):
        monkeypatch.setattr("sys.stdin", io.StringIO(workstation.passphrase("reviewer") + "\n"))
        out = usb / f"{args[0]}.pdf"
        code = cli.main(["--data-dir", str(workstation.data_dir), "--user", "reviewer", *args, "--output", str(out),
                         "--media-label", SNF])
        printed = capsys.readouterr()
        assert code == 0, printed.err
        assert f"marked {SNF}) written to" in printed.out and out.read_bytes().startswith(b"%PDF")
        assert_banners_on_every_page(pages_text(out.read_bytes(), tmp_path), SNF)


def test_a_printed_portion_quoting_a_higher_marked_value_is_found_and_the_document_refused(workstation, reviewed,  # type: ignore[no-untyped-def]
                                                                                         monkeypatch) -> None:
    """The marking lint reads the printed text back, as for the report: a lower portion (here an
    UNCLASSIFIED fact line under the title) that quotes a SECRET finding's title is named, and the
    service refuses to hand out such a document."""
    from datetime import UTC, datetime

    from app.model.findings import Severity
    from app.model.printable import DocumentKind, PrintableInput
    from app.model.report import ReportFinding
    from reports.marking_lint import lint_printable_pdf
    from reports.pdf_printable import build_printable

    secret = Marking.parse("SECRET//NOFORN")
    finding = ReportFinding("F-001", "Exfiltration through the sandbox escape", "details", Severity.HIGH,
                            marking=secret)
    doc = PrintableInput(DocumentKind.FINDINGS, "Findings register: test", Marking.parse("UNCLASSIFIED"),
                         "FRW-T-1", datetime(2026, 11, 20, tzinfo=UTC), "ws", "lead", findings=(finding,))
    assert lint_printable_pdf(doc, build_printable(doc).data) == []
    leaky = dataclasses.replace(doc, facts=((Marking.parse("UNCLASSIFIED"),
                                             "Latest: Exfiltration through the sandbox escape"),))
    problems = lint_printable_pdf(leaky, build_printable(leaky).data)
    assert len(problems) == 1 and "portion (U) quotes 'Exfiltration through the sandbox escape'" in problems[0]
    assert "from finding F-001, marked (S//NF)" in problems[0]

    session, sid = workstation.session("reviewer"), reviewed
    real = printables.findings_register(session, sid)  # the real register passes its own lint
    assert real.pages >= 1
    monkeypatch.setattr(printables, "build_printable", lambda d: build_printable(
        dataclasses.replace(d, facts=((Marking.parse("UNCLASSIFIED"), "Latest: " + d.findings[0].title),))))
    with pytest.raises(ValidationError, match="would quote marked information in a lower portion"):
        printables.findings_register(session, sid)
