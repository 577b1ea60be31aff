"""Sealed packages on the Reports screen: seal an exported package for registered partners, and open
a sealed package received from one (decrypt, unpack, verify against this workstation's roots).

The dialogs only collect paths and choices; app.services.sealing does the work and enforces every
rule (verification first, partner register, releasability, media label, dissemination log).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QWidget,
)

from app.model.errors import FrontierError
from app.model.verification import PackageVerification, PdfVerification
from app.services import sealing
from app.services.session import Session
from ui.banner import add_banners, window_marking
from ui.context import UiContext


@dataclass(frozen=True)
class SealRequest:
    folder: Path
    partners: list[str]
    destination: Path
    media: str


@dataclass(frozen=True)
class OpenRequest:
    sealed: Path
    key: Path
    cert: Path
    destination: Path


def _path_row(form: QFormLayout, label: str, pick: str, chooser: object) -> QLineEdit:
    edit = QLineEdit()
    button = QPushButton(pick)
    button.clicked.connect(chooser)
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(button)
    form.addRow(label, row)
    return edit


def _buttons(dialog: QDialog, form: QFormLayout, ok: str) -> tuple[QPushButton, QLabel]:
    """The OK button (named `ok`) and, above it, the line naming what is still missing."""
    missing = QLabel("")
    missing.setObjectName("warningText")
    missing.setTextFormat(Qt.TextFormat.PlainText)
    missing.setWordWrap(True)
    form.addRow(missing)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    button = buttons.button(QDialogButtonBox.StandardButton.Ok)
    button.setText(ok)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    form.addRow(buttons)
    return button, missing


def _show_missing(button: QPushButton, label: QLabel, verb: str, missing: list[str]) -> None:
    """Until every field is filled the OK button is disabled, its tooltip and the line above it
    saying what is missing (a click never closes the dialog with nothing done)."""
    text = f"To {verb}, still needed: {'; '.join(missing)}." if missing else ""
    button.setEnabled(not missing)
    button.setToolTip(text)
    label.setText(text)


class SealDialog(QDialog):
    """Package folder, the partners to seal it to, destination folder and media label."""

    def __init__(self, partner_names: Sequence[str], media_labels: Sequence[str], folder: Path | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Seal a package for partners")
        form = QFormLayout(self)
        self.folder = _path_row(form, "Exported package folder", "Choose…", self._browse_package)
        self.folder.textChanged.connect(self._show_marking)
        self.partners = QListWidget()
        self.partners.setObjectName("sealPartners")
        for name in partner_names:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.partners.addItem(item)
        form.addRow("Seal to (registered partners)", self.partners)
        self.destination = _path_row(form, "Destination folder", "Choose…", self._browse_destination)
        self.media = QComboBox()
        self.media.setEditable(True)
        self.media.addItems(list(media_labels))
        form.addRow("Media classification label", self.media)
        self.marking = QLabel("")
        self.marking.setObjectName("hint")
        self.marking.setTextFormat(Qt.TextFormat.PlainText)
        self.marking.setWordWrap(True)
        form.addRow(self.marking)
        note = QLabel("The package is verified first; it is encrypted (AES-256-GCM) to each partner's registered "
                      "encryption certificate and recorded in the dissemination log. Partners the package's "
                      "marking may not go to are refused.")
        note.setObjectName("hint")
        note.setWordWrap(True)
        form.addRow(note)
        self.ok_button, self.missing_label = _buttons(self, form, "Seal")
        self._window_marking = window_marking(parent)
        self.banners = add_banners(self, self._window_marking)
        for edit in (self.folder, self.destination):
            edit.textChanged.connect(self._update_ok)
        self.partners.itemChanged.connect(self._update_ok)
        self.media.currentTextChanged.connect(self._update_ok)
        if folder is not None:
            self.folder.setText(str(folder))
        self._update_ok()

    def missing(self) -> list[str]:
        """The fields still empty, as the dialog names them."""
        out = []
        if not self.folder.text().strip():
            out.append("the exported package folder")
        if not self._chosen():
            out.append("at least one partner ticked under \"Seal to\"")
        if not self.destination.text().strip():
            out.append("the destination folder")
        if not self.media.currentText().strip():
            out.append("the media classification label")
        return out

    def _update_ok(self, *_args: object) -> None:
        _show_missing(self.ok_button, self.missing_label, "seal", self.missing())

    def accept(self) -> None:
        self._update_ok()
        if not self.missing():
            super().accept()

    def _show_marking(self, text: str) -> None:
        marking = Path(text.strip()) / "MARKING.txt"
        try:
            first = marking.read_text(encoding="utf-8").splitlines()[0] if marking.is_file() else ""
        except (OSError, UnicodeDecodeError, IndexError):
            first = ""
        self.marking.setText(f"The package is marked {first}. Media labelled lower is refused." if first else "")
        if first:
            self.media.setCurrentText(first)
        for banner in self.banners:  # the dialog names the package: banner at its (claimed) marking
            banner.set_marking(first or self._window_marking)

    def _browse_package(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Exported package folder")
        if folder:
            self.folder.setText(folder)

    def _browse_destination(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder on the partner's removable media")
        if folder:
            self.destination.setText(folder)

    def check(self, name: str, checked: bool = True) -> None:
        for i in range(self.partners.count()):
            item = self.partners.item(i)
            if item.text() == name:
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def _chosen(self) -> list[str]:
        return [self.partners.item(i).text() for i in range(self.partners.count())
                if self.partners.item(i).checkState() == Qt.CheckState.Checked]

    def request(self) -> SealRequest | None:
        if self.missing():
            return None
        return SealRequest(Path(self.folder.text().strip()), self._chosen(), Path(self.destination.text().strip()),
                           self.media.currentText().strip())


class OpenSealedDialog(QDialog):
    """The sealed file (or NAME.sealed folder), this organisation's key and certificate, and where to open it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open a sealed package")
        form = QFormLayout(self)
        self.sealed = _path_row(form, "Sealed package (.p7m or .sealed folder)", "Choose…", self._browse_sealed)
        self.key = _path_row(form, "Your private key (PEM or DER)", "Choose…", self._browse_key)
        self.cert = _path_row(form, "Your certificate it was sealed to", "Choose…", self._browse_cert)
        self.destination = _path_row(form, "Open into folder", "Choose…", self._browse_destination)
        note = QLabel("The package is decrypted (its tag checked), unpacked and verified against this "
                      "workstation's trusted roots. The seal does not prove who sent it; the signatures inside do.")
        note.setObjectName("hint")
        note.setWordWrap(True)
        form.addRow(note)
        self.ok_button, self.missing_label = _buttons(self, form, "Open")
        add_banners(self, window_marking(parent))
        for edit in self._fields():
            edit.textChanged.connect(self._update_ok)
        self._update_ok()

    def _fields(self) -> tuple[QLineEdit, QLineEdit, QLineEdit, QLineEdit]:
        return self.sealed, self.key, self.cert, self.destination

    def missing(self) -> list[str]:
        """The fields still empty, as the dialog names them."""
        names = ("the sealed package", "your private key", "your certificate it was sealed to",
                 "the folder to open it into")
        return [name for name, edit in zip(names, self._fields(), strict=True) if not edit.text().strip()]

    def _update_ok(self, *_args: object) -> None:
        _show_missing(self.ok_button, self.missing_label, "open the package", self.missing())

    def accept(self) -> None:
        self._update_ok()
        if not self.missing():
            super().accept()

    def _browse_sealed(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Sealed package", "", "Sealed packages (*.p7m)")
        if name:
            self.sealed.setText(name)

    def _browse_key(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Private key", "", "Keys (*.pem *.key *.der)")
        if name:
            self.key.setText(name)

    def _browse_cert(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Certificate", "", "Certificates (*.pem *.crt *.cer *.der)")
        if name:
            self.cert.setText(name)

    def _browse_destination(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder to open the package into")
        if folder:
            self.destination.setText(folder)

    def request(self) -> OpenRequest | None:
        if self.missing():
            return None
        return OpenRequest(*(Path(e.text().strip()) for e in self._fields()))


def choose_seal(parent: QWidget, partner_names: Sequence[str], media_labels: Sequence[str],
                folder: Path | None) -> SealRequest | None:
    dlg = SealDialog(partner_names, media_labels, folder, parent)
    return dlg.request() if dlg.exec() == QDialog.DialogCode.Accepted else None


def choose_open(parent: QWidget) -> OpenRequest | None:
    dlg = OpenSealedDialog(parent)
    return dlg.request() if dlg.exec() == QDialog.DialogCode.Accepted else None


def partner_names(ctx: UiContext) -> list[str]:
    """Active registered partners (the service refuses those without an encryption certificate)."""
    from app.services import partners

    try:
        return sorted(p.name for p in partners.list_all(ctx.session) if p.active)
    except FrontierError:
        return []


def seal(session: Session, request: SealRequest) -> str:
    """Run the seal (a job: it verifies and encrypts the whole package); the text to show.
    FrontierError propagates for the screen's one error path."""
    out = sealing.seal_folder(session, request.folder, request.partners, request.destination, request.media)
    r = out.result
    lines = [f"Sealed package written to {r.path}", f"content {r.marking.banner()}, media {r.media.banner()}",
             f"{r.sha256}  {r.sealed_file}", *[f"sealed to {who}" for who in r.recipients],
             f"recorded in the dissemination log for {', '.join(request.partners)}"]
    return "\n".join(lines)


Opened = tuple[Path, PdfVerification | PackageVerification]


def opener(ctx: UiContext, parent: QWidget, request: OpenRequest) -> Callable[[], Opened] | None:
    """The key's password is asked here (GUI thread); the returned work decrypts into the destination
    and verifies against this workstation's trusted roots (audited as a verification), for a job.
    None when the password was not given."""
    from app.services import pki as pki_service
    from app.services import reports as report_service

    password = None
    if sealing.key_needs_password(request.key):
        password = ctx.ask_passphrase(parent, f"Password of the private key {request.key.name}")
        if password is None:
            return None
    session = ctx.session

    def work() -> Opened:
        key = sealing.read_private_key(request.key, password)
        cert = sealing.read_certificates(request.cert)[0]
        folder = sealing.open_to_folder(request.sealed, key, cert, request.destination)
        return folder, report_service.verify_path(folder, pki_service.trusted_roots(session), session)

    return work
