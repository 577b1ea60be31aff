"""Report screen: build, preview with QtPdf before and after signing, sign/countersign with the
passphrase asked again, verify, print (recorded in the audit trail) and export with a media label."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtPrintSupport import QPrinter

from app.services import audit, printers
from tests.unit.test_signing_service import _configure
from ui.printing import PrintChoice
from ui.screens.report_screen import ReportScreen
from ui.widgets.submission_picker import ID_ROLE


def _pdf_printer(path: Path) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.ScreenResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def test_build_preview_sign_countersign_verify_print_export(workstation, approved, make_ctx, dialogs, qtbot,
                                                            tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sid = approved
    ctx = make_ctx("reviewer")
    screen = ReportScreen(ctx)
    qtbot.addWidget(screen)
    assert not screen.sign_button.isEnabled() and not screen.export_button.isEnabled()
    assert screen.pick(sid)
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
    screen.verify_button.click()  # the reviewer's signature alone is not a final report
    assert screen.verdict.text().startswith("Report NOT FINAL: awaiting countersignature")
    assert screen.verdict.property("state") == "waiting"

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
    assert screen.verdict.text().startswith("Report FINAL") and screen.verdict.property("state") == "ok"
    assert screen.results.toPlainText().count("VALID: ") == 2

    # Printing: only registered printers, checked against their accreditation labels.
    admin = workstation.session("admin")
    printers.register(admin, "room3-laser", "CONFIDENTIAL", "Building 2, room 3")
    printers.register(admin, "vault-mfp", "SECRET//NOFORN", "Vault, room 12")
    out = tmp_path / "printed.pdf"
    offered: list[list[str]] = []

    def choose(name: str):  # type: ignore[no-untyped-def]
        def pick(_parent, _what, _marking, rows, pages):  # type: ignore[no-untyped-def]
            offered.append([f"{r.name}: {r.verdict(_marking) or 'allowed'}" for r in rows])
            return PrintChoice(name, 2, 1, pages)
        return pick

    screen.printing.system = lambda: ["room3-laser", "vault-mfp", "hallway"]
    screen.printing.make_printer = lambda _name: _pdf_printer(out)
    screen.printing.choose = choose("room3-laser")
    screen.print_button.click()
    assert "accredited for CONFIDENTIAL only" in dialogs.error_text() and not out.exists()
    assert offered[-1] == ["hallway: not registered: an administrator must register it",
                           "room3-laser: accredited below SECRET//NOFORN", "vault-mfp: allowed"]
    dialogs.errors.clear()
    screen.printing.choose = choose("vault-mfp")
    screen.print_button.click()
    assert not dialogs.errors, dialogs.error_text()
    assert out.stat().st_size > 10_000
    auditor = workstation.session("auditor")
    prints = audit.events(auditor, 50, action_prefix="report.print")
    assert len(prints) == 1 and prints[0].details["pages"] == f"1-{pages_before} ({pages_before} pages)"
    assert prints[0].details["printer"] == "vault-mfp" and prints[0].details["copies"] == 2
    assert prints[0].details["marking"] == prints[0].details["printer_label"] == "SECRET//NOFORN"
    refused = audit.events(auditor, 50, action_prefix="print.refused")
    assert [e.details["printer"] for e in refused] == ["room3-laser"]

    usb = tmp_path / "usb"
    usb.mkdir()
    notices: list[str] = []

    def choose_export(label: str):  # type: ignore[no-untyped-def]
        def choose(_parent, _marking, notice):  # type: ignore[no-untyped-def]
            notices.append(notice)
            return usb, label
        return choose

    # Media labelled lower is refused before the passphrase is asked (the same message as before).
    screen.choose_export = choose_export("SECRET")
    prompts, confirmations = len(dialogs.prompts), len(dialogs.confirmations)
    screen.export_button.click()
    assert "media is labelled SECRET" in dialogs.error_text() and list(usb.iterdir()) == []
    assert len(dialogs.prompts) == prompts and len(dialogs.confirmations) == confirmations
    dialogs.errors.clear()
    # The first export releases the findings and closes the review: the dialog says so before OK and
    # the reviewer confirms; "no" writes nothing and asks no passphrase.
    screen.choose_export = choose_export("SECRET//NOFORN")
    dialogs.confirm_answer = False
    screen.export_button.click()
    assert "releases the countersigned findings and closes the review" in notices[-1]
    assert dialogs.confirmations[-1] == "Release the findings and close the review"
    assert list(usb.iterdir()) == [] and len(dialogs.prompts) == prompts
    dialogs.confirm_answer = True
    dialogs.passphrases = [workstation.passphrase("reviewer")]
    screen.export_button.click()
    assert not dialogs.errors, dialogs.error_text()
    assert screen.last_export is not None and (screen.last_export.package.path / "SHA256SUMS.p7s").exists()
    assert "Package written to" in screen.results.toPlainText()
    assert f"the review of submission {sid} is now closed" in screen.results.toPlainText()
    # Released: another export is a copy, so nothing is said and nothing asked.
    copy = tmp_path / "usb2"
    copy.mkdir()
    asked = len(dialogs.confirmations)
    screen.choose_export = lambda _parent, _marking, notice: (notices.append(notice), (copy, "SECRET//NOFORN"))[1]
    dialogs.passphrases = [workstation.passphrase("reviewer")]
    screen.export_button.click()
    assert not dialogs.errors, dialogs.error_text()
    assert notices[-1] == "" and len(dialogs.confirmations) == asked and list(copy.iterdir())


def test_auditor_sees_reports_but_cannot_act(workstation, make_ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    ctx = make_ctx("auditor")
    screen = ReportScreen(ctx)
    qtbot.addWidget(screen)
    assert not screen.build_button.isVisibleTo(screen)
    assert not screen.sign_button.isVisibleTo(screen) and not screen.export_button.isVisibleTo(screen)
    assert screen.table.rowCount() == 0


def test_receiving_workstation_trusts_the_sender_and_verifies_a_package(workstation, approved, second_workstation,
                                                                         dialogs, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from app.services import reports as report_service
    from ui.context import UiContext
    from ui.jobs import JobRunner

    sid = approved
    rev = workstation.session("reviewer")
    report = report_service.build(rev, sid)
    report_service.sign(rev, report.id, workstation.passphrase("reviewer"))
    report_service.countersign(workstation.session("lead"), report.id, workstation.passphrase("lead"))
    usb = tmp_path / "usb"
    usb.mkdir()
    pkg = report_service.export(rev, report.id, usb, "SECRET//NOFORN", workstation.passphrase("reviewer")).package.path

    _configure(second_workstation.session("admin"))
    ctx = UiContext(session=second_workstation.session("admin"), jobs=JobRunner(synchronous=True),
                    error_sink=dialogs.error, passphrase_prompt=dialogs.passphrase, confirmer=dialogs.confirm)
    screen = ReportScreen(ctx)
    qtbot.addWidget(screen)
    assert "CA fingerprint" in screen.ca_label.text()
    screen.choose_received = lambda _parent: pkg
    screen.verify_received_button.click()
    assert "package NOT VALID" in screen.results.toPlainText()
    assert "does not chain to a trusted root" in screen.results.toPlainText()

    screen.choose_ca_file = lambda _parent: pkg / "ca.pem"
    dialogs.confirm_answer = False
    screen.trust_button.click()
    assert "Trust CA certificate" in dialogs.confirmations and not dialogs.prompts  # declined: nothing asked
    dialogs.confirm_answer = True
    dialogs.passphrases = [second_workstation.passphrase("admin")]
    screen.trust_button.click()
    assert not dialogs.errors, dialogs.error_text()
    assert "Now trusted" in screen.results.toPlainText()
    screen.verify_received_button.click()
    assert "package VERIFIED" in screen.results.toPlainText(), screen.results.toPlainText()
    assert screen.verdict.text().startswith("Package VERIFIED — report FINAL")
    screen.choose_received = lambda _parent: pkg / "report.pdf"
    screen.verify_received_button.click()
    assert "all signatures valid" in screen.results.toPlainText()


def _item_texts(table, row: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [table.item(row, c).text() for c in range(table.columnCount())]


def test_global_reports_screen_picks_the_submission_from_a_searchable_list(workstation, approved, make_ctx,
                                                                            dialogs, qtbot) -> None:  # type: ignore[no-untyped-def]
    """No typed id: the submission is chosen in a list (model, developer, stage, marking) with a search;
    Build is disabled with the workflow's reason until the chosen submission may be reported on."""
    from datetime import date

    from app.model.markings import Marking
    from app.model.submissions import Submission, SubmissionStatus
    from app.services import submissions

    sid = approved
    rev = workstation.session("reviewer")
    other = submissions.create(rev, Submission(developer="Borealis Labs", model_name="Heron", version="0.9",
                                               received=date(2026, 11, 5), planned_release=date(2026, 12, 3),
                                               marking=Marking.parse("CUI"),
                                               status=SubmissionStatus.WITHDRAWN)).id
    screen = ReportScreen(make_ctx("reviewer"))
    qtbot.addWidget(screen)
    picker = screen.picker
    assert picker is not None and picker.table.rowCount() == 2
    rows = {picker.table.item(r, 0).data(ID_ROLE): _item_texts(picker.table, r) for r in range(2)}
    assert rows[sid][1:] == ["Falcon 2.1", "Acme AI", "approved", "UNCLASSIFIED"]
    assert rows[other][1:] == ["Heron 0.9", "Borealis Labs", "withdrawn", "CUI"]
    assert not screen.build_button.isEnabled()
    assert "Choose a submission" in screen.build_button.toolTip()

    assert screen.pick(other)  # a withdrawn review: disabled, the workflow rule says why
    assert not screen.build_button.isEnabled()
    assert screen.build_button.toolTip() == "The submission is withdrawn"
    assert screen.reports_title.text() == "Reports of Borealis Labs Heron 0.9"

    qtbot.keyClicks(picker.search, "falcon")
    picker.reload()  # what the search timer does after the typing pauses
    assert picker.table.rowCount() == 1 and picker.table.item(0, 1).text() == "Falcon 2.1"
    assert picker.selected_id() is None and not screen.build_button.isEnabled()  # Heron left the list
    picker.table.selectRow(0)
    assert screen.picked_id() == sid and screen.build_button.isEnabled()
    screen.build_button.click()
    assert not dialogs.errors, dialogs.error_text()
    assert screen.current is not None and screen.current.submission_id == sid
    assert screen.table.rowCount() == 1 and screen.table.item(0, 1).text() == "Acme AI Falcon 2.1"

    screen.show_all_button.click()  # back to every submission's latest reports
    assert screen.picked_id() is None and screen.reports_title.text() == "Latest reports of all submissions"
    assert screen.table.rowCount() == 1


def test_auditor_picks_a_submission_but_may_not_build(workstation, approved, make_ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    sid = approved
    screen = ReportScreen(make_ctx("auditor"))
    qtbot.addWidget(screen)
    assert screen.pick(sid)
    assert not screen.build_button.isEnabled() and screen.build_button.toolTip()


def test_export_dialog_says_what_the_export_does_and_refuses_an_empty_folder(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QDialog

    from ui.screens.report_screen import NO_FOLDER, RELEASE_NOTICE, ExportDialog

    dlg = ExportDialog("SECRET", None, RELEASE_NOTICE)
    qtbot.addWidget(dlg)
    dlg.show()
    assert dlg.notice.isVisible() and "closes the review" in dlg.notice.text()
    dlg.accept()  # OK with no folder: stays open and says why
    assert dlg.result() != QDialog.DialogCode.Accepted and dlg.isVisible()
    assert dlg.problem.isVisible() and dlg.problem.text() == NO_FOLDER
    dlg.folder.setText(str(tmp_path))
    dlg.accept()
    assert dlg.result() == QDialog.DialogCode.Accepted

    copy = ExportDialog("SECRET", None)  # a copy of a released report: nothing to announce
    qtbot.addWidget(copy)
    copy.show()
    assert not copy.notice.isVisible()
