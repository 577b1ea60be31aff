"""Report screen: build, preview with QtPdf before and after signing, sign/countersign with the
passphrase asked again, verify, print (recorded in the audit trail) and export with a media label."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtPrintSupport import QPrinter

from app.services import audit
from tests.unit.test_signing_service import _approved_submission, _configure
from ui.screens.report_screen import ReportScreen


def _pdf_printer(path: Path) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.ScreenResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def test_build_preview_sign_countersign_verify_print_export(workstation, make_ctx, dialogs, qtbot,
                                                            tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _configure(workstation.session("admin"))
    sid = _approved_submission(workstation)
    ctx = make_ctx("reviewer")
    screen = ReportScreen(ctx)
    qtbot.addWidget(screen)
    assert not screen.sign_button.isEnabled() and not screen.export_button.isEnabled()
    screen.submission_box.setValue(sid)
    screen.build_button.click()
    assert not dialogs.errors, dialogs.error_text()
    assert screen.current is not None and screen.current.state == "built"
    pages_before = screen.pdf.pageCount()
    assert pages_before > 5 and screen.table.rowCount() == 1
    assert "SECRET//NOFORN" in screen.info.text()
    assert not screen.pdf.render(0, screen.pdf.pagePointSize(0).toSize()).isNull()

    dialogs.passphrases = ["wrong passphrase!!"]
    screen.sign_button.click()
    assert "Wrong passphrase" in dialogs.error_text()
    assert screen.current.state == "built"
    dialogs.errors.clear()
    dialogs.passphrases = [workstation.passphrase("reviewer")]
    screen.sign_button.click()
    assert not dialogs.errors, dialogs.error_text()
    assert screen.current.state == "signed" and screen.pdf.pageCount() == pages_before
    assert dialogs.prompts[-1].startswith("Sign report")
    assert not screen.countersign_button.isVisibleTo(screen)  # reviewers never see Countersign

    lead_ctx = make_ctx("lead")
    lead_screen = ReportScreen(lead_ctx)
    qtbot.addWidget(lead_screen)
    lead_screen.select(screen.current.id)
    assert lead_screen.countersign_button.isEnabled()
    dialogs.passphrases = [workstation.passphrase("lead")]
    lead_screen.countersign_button.click()
    assert not dialogs.errors, dialogs.error_text()
    assert lead_screen.current is not None and lead_screen.current.state == "countersigned"

    screen.refresh()
    screen.verify_button.click()
    assert "all signatures valid" in screen.results.toPlainText()
    assert screen.results.toPlainText().count("VALID: ") == 2

    out = tmp_path / "printed.pdf"
    screen.choose_printer = lambda _parent, _pages: _pdf_printer(out)
    screen.print_button.click()
    assert not dialogs.errors, dialogs.error_text()
    assert out.stat().st_size > 10_000
    prints = audit.events(workstation.session("auditor"), 50, action_prefix="report.print")
    assert len(prints) == 1 and prints[0].details["pages"] == f"{pages_before} pages"

    usb = tmp_path / "usb"
    usb.mkdir()
    screen.choose_export = lambda _parent, _marking: (usb, "SECRET")
    dialogs.passphrases = [workstation.passphrase("reviewer")]
    screen.export_button.click()
    assert "media is labelled SECRET" in dialogs.error_text() and list(usb.iterdir()) == []
    dialogs.errors.clear()
    screen.choose_export = lambda _parent, _marking: (usb, "SECRET//NOFORN")
    dialogs.passphrases = [workstation.passphrase("reviewer")]
    screen.export_button.click()
    assert not dialogs.errors, dialogs.error_text()
    assert screen.last_export is not None and (screen.last_export.package.path / "SHA256SUMS.p7s").exists()
    assert "Package written to" in screen.results.toPlainText()


def test_auditor_sees_reports_but_cannot_act(workstation, make_ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    ctx = make_ctx("auditor")
    screen = ReportScreen(ctx)
    qtbot.addWidget(screen)
    assert not screen.build_button.isVisibleTo(screen)
    assert not screen.sign_button.isVisibleTo(screen) and not screen.export_button.isVisibleTo(screen)
    assert screen.table.rowCount() == 0
