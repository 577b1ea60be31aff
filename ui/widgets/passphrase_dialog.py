"""Modal passphrase prompt for sensitive actions (Electrum's `@protected`)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from ui.banner import add_banners, window_marking


class PassphraseDialog(QDialog):
    def __init__(self, reason: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("rejectOnLock", True)  # a prompt, not work: a lock answers it with Cancel
        self.setWindowTitle("Passphrase required")
        self.setModal(True)
        layout = QVBoxLayout(self)
        label = QLabel(reason)
        label.setWordWrap(True)
        layout.addWidget(label)
        self.field = QLineEdit()
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setObjectName("passphrase")
        self.field.setPlaceholderText("Your passphrase")
        layout.addWidget(self.field)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(360)
        add_banners(self, window_marking(parent))

    def passphrase(self) -> str:
        return self.field.text()


def ask_passphrase(parent: QWidget | None, reason: str) -> str | None:
    dlg = PassphraseDialog(reason, parent)
    try:
        if dlg.exec() == QDialog.DialogCode.Accepted and dlg.passphrase():
            return dlg.passphrase()
        return None
    finally:
        dlg.field.clear()
        dlg.deleteLater()
