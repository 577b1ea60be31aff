"""Print and save the checklist, the findings register and the vulnerability register from their
screens: a preview at the document's marking, registered printers only, media label checked."""

from __future__ import annotations

from pathlib import Path

from app.model.markings import Marking
from app.model.vulnerabilities import DiscoveryContext, Vulnerability
from app.services import audit, printers
from app.services import vulnerabilities as vs
from tests.ui.test_report_screen import _pdf_printer
from tests.unit.test_printables import assert_banners_on_every_page, pages_text
from ui.banner import banners_of
from ui.printing import PrintChoice
from ui.screens.assessment_screen import AssessmentScreen
from ui.screens.findings_screen import FindingsScreen
from ui.screens.vulnerabilities_screen import VulnerabilitiesScreen

SNF = "SECRET//NOFORN"


def test_checklist_preview_print_and_save(workstation, approved, make_ctx, dialogs, qtbot,
                                          tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    admin = workstation.session("admin")
    printers.register(admin, "room3-laser", "CONFIDENTIAL", "Building 2, room 3")
    printers.register(admin, "vault-mfp", SNF, "Vault, room 12")
    sid = approved
    ctx = make_ctx("reviewer")
    screen = AssessmentScreen(ctx, sid)
    qtbot.addWidget(screen)
    assert screen.print_button.isVisibleTo(screen)
    preview = screen.print_checklist()
    assert preview is not None and not dialogs.errors, dialogs.error_text()
    qtbot.addWidget(preview)
    assert [b.text() for b in banners_of(preview)][:1] == [SNF] and banners_of(preview)[-1].text() == SNF
    assert preview.pdf.pageCount() == preview.doc.pages >= 3
    assert SNF in preview.info.text()

    out = tmp_path / "printed.pdf"
    preview.printing.system = lambda: ["room3-laser", "vault-mfp"]
    preview.printing.make_printer = lambda _name: _pdf_printer(out)
    preview.printing.choose = lambda _p, _w, _m, _rows, pages: PrintChoice("room3-laser", 1, 1, pages)
    assert preview.print_document() is None
    assert "accredited for CONFIDENTIAL only" in dialogs.error_text() and not out.exists()
    dialogs.errors.clear()
    preview.printing.choose = lambda _p, _w, _m, _rows, pages: PrintChoice("vault-mfp", 1, 1, 2)
    assert preview.print_document() == 2
    assert not dialogs.errors, dialogs.error_text()
    assert out.stat().st_size > 10_000
    printed = audit.events(workstation.session("auditor"), 50, action_prefix="print.document")
    assert printed[0].details["kind"] == "checklist" and printed[0].details["pages"] == "1-2 (2 pages)"

    usb = tmp_path / "usb"
    usb.mkdir()
    preview.choose_file = lambda _p, _doc: (usb / "checklist.pdf", "SECRET")
    assert preview.save() is None and "media is labelled SECRET" in dialogs.error_text()
    assert list(usb.iterdir()) == []
    dialogs.errors.clear()
    preview.choose_file = lambda _p, _doc: (usb / "checklist.pdf", SNF)
    saved = preview.save()
    assert saved is not None and not dialogs.errors
    assert_banners_on_every_page(pages_text(saved.read_bytes(), tmp_path), SNF)
    assert (usb / "MARKING.txt").exists()


def test_findings_and_vulnerability_registers_open_from_their_screens(workstation, approved, make_ctx, dialogs,
                                                                      qtbot) -> None:  # type: ignore[no-untyped-def]
    sid = approved
    ctx = make_ctx("reviewer")
    vs.create(ctx.session, Vulnerability(title="Sandbox escape", marking=Marking.parse("SECRET"),
                                         context=DiscoveryContext(submission_id=sid)))
    findings_screen = FindingsScreen(ctx, sid)
    qtbot.addWidget(findings_screen)
    findings_screen.print_button.click()
    preview = findings_screen.print_register()
    assert preview is not None and not dialogs.errors, dialogs.error_text()
    qtbot.addWidget(preview)
    assert banners_of(preview)[0].text() == SNF and "Findings register" in preview.doc.title

    vuln_screen = VulnerabilitiesScreen(ctx)
    qtbot.addWidget(vuln_screen)
    preview = vuln_screen.print_register()
    assert preview is not None and not dialogs.errors, dialogs.error_text()
    qtbot.addWidget(preview)
    assert banners_of(preview)[0].text() == "SECRET" and preview.doc.marking == Marking.parse("SECRET")


def test_findings_of_an_approved_assessment_are_read_only_for_the_lead_too(workstation, approved, make_ctx,
                                                                          qtbot) -> None:  # type: ignore[no-untyped-def]
    from tests.ui.test_assessment_screen import _looks_read_only

    screen = FindingsScreen(make_ctx("lead"), approved)
    qtbot.addWidget(screen)
    assert screen.table.rowCount() == 2
    screen.table.selectRow(0)
    assert screen.title.text()  # the finding is shown...
    assert _looks_read_only(screen)  # ...but nothing on the form can be changed
    assert "approved" in screen.read_only_note.text() and not screen.read_only_note.isHidden()
