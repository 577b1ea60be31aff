"""Reports screen, sealed packages: a reviewer seals the exported package for a registered partner
through the real SealDialog; a receiving workstation opens it through the real OpenSealedDialog and
sees the package verified; another key, an unregistered partner's refusal and a cancelled password
are shown as errors or nothing."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QPushButton

from app.model.dissemination import CertificatePurpose
from app.model.markings import Level
from app.model.partners import Partner, PartnerKind
from app.model.vulnerabilities import Tlp
from app.services import dissemination, partners, pki
from app.services import reports as report_service
from tests.unit.partner_kit import make_cert
from tests.unit.test_signing_service import _approved_submission, _configure
from ui.context import UiContext
from ui.dialogs.sealed_package import OpenSealedDialog, SealDialog
from ui.jobs import JobRunner
from ui.screens.report_screen import ReportScreen


def test_seal_for_a_partner_and_open_on_the_receiving_side(workstation, second_workstation, make_ctx, dialogs,
                                                           qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    admin = workstation.session("admin")
    _configure(admin)
    lab = partners.add(admin, Partner(name="Federal Test Lab", kind=PartnerKind.AGENCY, codes=("USA",),
                                      max_level=Level.SECRET, tlp=Tlp.AMBER))
    allied = partners.add(admin, Partner(name="Allied Institute", kind=PartnerKind.ALLIED, codes=("GBR",),
                                         max_level=Level.SECRET, tlp=Tlp.AMBER))
    partner = make_cert(tmp_path / "lab", "Federal Test Lab", "encryption")
    assert lab.id is not None and allied.id is not None
    partners.add_certificate(admin, allied.id, make_cert(tmp_path / "gbr", "Allied", "encryption").cert_path,
                             CertificatePurpose.ENCRYPTION)
    partners.add_certificate(admin, lab.id, partner.cert_path, CertificatePurpose.ENCRYPTION)
    sid = _approved_submission(workstation)
    rev = workstation.session("reviewer")
    report = report_service.build(rev, sid)
    report_service.sign(rev, report.id, workstation.passphrase("reviewer"))
    report_service.countersign(workstation.session("lead"), report.id, workstation.passphrase("lead"))
    usb, partner_usb = tmp_path / "usb", tmp_path / "partner-usb"
    usb.mkdir()
    partner_usb.mkdir()

    screen = ReportScreen(make_ctx("reviewer"))
    qtbot.addWidget(screen)
    screen.select(report.id)
    screen.choose_export = lambda _parent, _marking, _notice: (usb, "SECRET//NOFORN")
    dialogs.passphrases = [workstation.passphrase("reviewer")]
    screen.export_button.click()
    assert not dialogs.errors, dialogs.error_text()
    pkg = next(usb.iterdir())

    seen: dict[str, object] = {}

    def fill(parent, names, labels, folder, tick=("Federal Test Lab",)):  # type: ignore[no-untyped-def]
        dlg = SealDialog(names, labels, folder, parent)
        qtbot.addWidget(dlg)
        seen.update(names=list(names), folder=folder, media=dlg.media.currentText(), hint=dlg.marking.text(),
                    banner=dlg.banners[0].text())
        for name in tick:
            dlg.check(name)
        dlg.destination.setText(str(partner_usb))
        return dlg.request()

    # A NOFORN package is refused for the allied partner, naming why; nothing is written.
    screen.choose_seal = lambda p, n, m, f: fill(p, n, m, f, tick=("Allied Institute",))
    screen.seal_button.click()
    assert "may not go to Allied Institute" in dialogs.error_text() and list(partner_usb.iterdir()) == []
    dialogs.errors.clear()

    screen.choose_seal = fill
    screen.seal_button.click()
    assert not dialogs.errors, dialogs.error_text()
    assert seen["names"] == ["Allied Institute", "Federal Test Lab"] and seen["folder"] == pkg
    assert seen["media"] == "SECRET//NOFORN" and "marked SECRET//NOFORN" in str(seen["hint"])
    assert seen["banner"] == "SECRET//NOFORN"
    text = screen.results.toPlainText()
    assert text.startswith("Sealed package written to") and "dissemination log for Federal Test Lab" in text
    sealed = partner_usb / f"{pkg.name}.sealed"
    assert (sealed / f"{pkg.name}.p7m").is_file()
    assert [e.partner_name for e in dissemination.entries(admin)] == ["Federal Test Lab"]

    # The receiving workstation trusts the sender's CA once, then opens what was sealed to it.
    receiver_admin = second_workstation.session("admin")
    _configure(receiver_admin)
    pki.import_trusted_root(receiver_admin, pkg / "ca.pem", second_workstation.passphrase("admin"))
    ctx = UiContext(session=receiver_admin, jobs=JobRunner(synchronous=True), error_sink=dialogs.error,
                    passphrase_prompt=dialogs.passphrase, confirmer=dialogs.confirm)
    receiver = ReportScreen(ctx)
    qtbot.addWidget(receiver)
    locked = tmp_path / "lab-key-locked.pem"
    locked.write_bytes(partner.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.BestAvailableEncryption(b"lab-secret")))
    other = make_cert(tmp_path / "other", "Someone Else", "encryption")

    def open_with(key: Path, cert: Path, into: Path):  # type: ignore[no-untyped-def]
        def choose(parent):  # type: ignore[no-untyped-def]
            dlg = OpenSealedDialog(parent)
            qtbot.addWidget(dlg)
            dlg.sealed.setText(str(sealed))
            dlg.key.setText(str(key))
            dlg.cert.setText(str(cert))
            dlg.destination.setText(str(into))
            return dlg.request()
        return choose

    received = tmp_path / "received"
    received.mkdir()
    receiver.choose_open = open_with(other.key_path, other.cert_path, received)
    receiver.open_sealed_button.click()
    assert "not sealed to certificate" in dialogs.error_text() and list(received.iterdir()) == []
    dialogs.errors.clear()

    receiver.choose_open = open_with(locked, partner.cert_path, received)
    dialogs.passphrases = []  # the password prompt is cancelled: nothing happens
    receiver.open_sealed_button.click()
    assert not dialogs.errors and list(received.iterdir()) == []
    assert dialogs.prompts[-1] == "Password of the private key lab-key-locked.pem"
    dialogs.passphrases = ["lab-secret"]
    receiver.open_sealed_button.click()
    assert not dialogs.errors, dialogs.error_text()
    assert receiver.verdict.text().startswith("Package VERIFIED — report FINAL")
    out = receiver.results.toPlainText()
    assert out.startswith(f"Opened into {received / pkg.name}") and "package VERIFIED" in out
    assert sorted(os.listdir(received / pkg.name)) == sorted(os.listdir(pkg))


def test_auditor_has_no_seal_button_but_may_open(make_ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    screen = ReportScreen(make_ctx("auditor"))
    qtbot.addWidget(screen)
    assert not screen.seal_button.isVisibleTo(screen)
    assert screen.open_sealed_button.isVisibleTo(screen)
    dlg = SealDialog(["A"], ["CUI"], None, screen)
    qtbot.addWidget(dlg)
    assert dlg.request() is None  # nothing chosen: nothing to do
    dlg.check("A")
    assert dlg.partners.item(0).checkState() == Qt.CheckState.Checked


def _button(d: QDialog, text: str) -> QPushButton:
    return next(b for b in d.findChildren(QPushButton) if b.text() == text)


def _said(d: QDialog) -> str:
    """What the dialog says is still missing."""
    return " ".join(label.text() for label in d.findChildren(QLabel) if "still needed" in label.text())


def test_seal_stays_open_and_names_what_is_missing(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Walk 3 #5: a click on Seal with no partner ticked closed the dialog and nothing happened. The
    button now stays disabled until every field is filled, saying what is missing (tooltip and a line
    in the dialog); even a forced accept keeps the dialog open."""
    dlg = SealDialog(["Federal Test Lab"], ["CUI"], tmp_path, None)
    qtbot.addWidget(dlg)
    dlg.destination.setText(str(tmp_path / "usb"))
    dlg.show()
    seal = _button(dlg, "Seal")
    assert not seal.isEnabled()
    assert "at least one partner" in seal.toolTip() and "at least one partner" in _said(dlg)
    assert "destination" not in seal.toolTip()
    qtbot.mouseClick(seal, Qt.MouseButton.LeftButton)
    dlg.accept()  # e.g. Enter in a field
    assert dlg.isVisible() and dlg.result() != QDialog.DialogCode.Accepted
    dlg.check("Federal Test Lab")
    assert seal.isEnabled() and not _said(dlg) and not seal.toolTip()
    dlg.destination.clear()
    assert not seal.isEnabled() and "the destination folder" in _said(dlg)
    dlg.folder.clear()
    assert "the exported package folder" in seal.toolTip()
    dlg.folder.setText(str(tmp_path))
    dlg.destination.setText(str(tmp_path / "usb"))
    qtbot.mouseClick(seal, Qt.MouseButton.LeftButton)
    assert dlg.result() == QDialog.DialogCode.Accepted and dlg.request() is not None


def test_open_sealed_stays_open_and_names_what_is_missing(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Walk 3 #5: with the certificate field empty, Open closed the dialog and nothing happened."""
    opener = OpenSealedDialog(None)
    qtbot.addWidget(opener)
    opener.sealed.setText(str(tmp_path / "pkg.sealed"))
    opener.key.setText(str(tmp_path / "lab.key"))
    opener.destination.setText(str(tmp_path / "received"))
    opener.show()
    open_ = _button(opener, "Open")
    assert not open_.isEnabled()
    assert "your certificate it was sealed to" in open_.toolTip()
    assert "your certificate it was sealed to" in _said(opener)
    opener.accept()
    assert opener.isVisible() and opener.request() is None
    opener.cert.setText(str(tmp_path / "lab.pem"))
    assert open_.isEnabled() and not _said(opener)
    qtbot.mouseClick(open_, Qt.MouseButton.LeftButton)
    assert opener.result() == QDialog.DialogCode.Accepted and opener.request() is not None
