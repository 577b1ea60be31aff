"""Sign-in window: consent banner first (AC-8), then username and passphrase.

Unlocking runs PBKDF2 (about half a second at the stored parameters), so it goes through the
job runner and the window stays responsive. Every failure is shown in plain words: wrong
passphrase, locked out (with time left), disabled account, missing keyring secret, damaged
database — the service messages already name the file and never contain secrets.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.model.errors import FrontierError, LockedOutError, PassphraseChangeRequired, StorageError
from app.services import workstation
from app.services.session import Clock, Session, utc_now
from ui.banner import ClassificationBanner, add_banners, window_marking
from ui.errors import sanitize
from ui.jobs import JobRunner


def failure_text(exc: BaseException) -> str:
    if isinstance(exc, LockedOutError):
        seconds = int(exc.seconds) + 1
        wait = f"{seconds} s" if seconds < 120 else f"{round(seconds / 60)} min"
        # the try that started the lockout was itself wrong: said first, as for the tries before it
        lead = f"{sanitize(exc.failure)}\n" if exc.after_failure else ""
        return (f"{lead}Too many failed attempts. Account '{sanitize(exc.username)}' is locked after repeated "
                f"failed sign-ins. Try again in {wait}.")
    if isinstance(exc, StorageError):
        return f"The workstation cannot be opened. {sanitize(str(exc))}"
    if isinstance(exc, FrontierError):
        return sanitize(str(exc))
    return "Sign-in failed because of an unexpected error; ask the administrator."


class _PassphraseForm(QDialog):
    """A short pre-sign-in form: a hint, fields, OK/Cancel, the banners of the window below."""

    def __init__(self, title: str, hint: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.form = QFormLayout(self)
        label = QLabel(hint)
        label.setWordWrap(True)
        self.form.addRow(label)

    def finish(self, parent: QWidget | None) -> None:
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.form.addRow(buttons)
        self.setMinimumWidth(480)
        add_banners(self, window_marking(parent))


def _secret(name: str) -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setAccessibleName(name)
    return field


class RecoveryDialog(_PassphraseForm):
    """Open with the printed recovery key and give an administrator a new passphrase."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Recover with the recovery key",
                         "Use the recovery key printed at setup. The administrator account gets a new "
                         "passphrase; the recovery is recorded in the audit trail.", parent)
        self.key = QLineEdit()
        self.key.setPlaceholderText("ABCD-EFGH-…")
        self.admin = QLineEdit()
        self.passphrase = _secret("New passphrase")
        self.form.addRow("Recovery key", self.key)
        self.form.addRow("Administrator account", self.admin)
        self.form.addRow("New passphrase", self.passphrase)
        self.finish(parent)


class FirstPassphraseDialog(_PassphraseForm):
    """First sign-in: the person replaces the passphrase an administrator gave them; their own
    signing key is created under the new one."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Choose your own passphrase",
                         "Your account still has the first passphrase an administrator gave you. Choose your own "
                         "(12 characters or more): it alone protects your personal signing key, which is created "
                         "now.", parent)
        self.passphrase = _secret("New passphrase")
        self.repeat = _secret("New passphrase again")
        self.form.addRow("New passphrase", self.passphrase)
        self.form.addRow("Again", self.repeat)
        self.finish(parent)


class SignInWindow(QWidget):
    signed_in = Signal(object)  # Session

    def __init__(self, data_dir: Path, jobs: JobRunner, clock: Clock = utc_now, demo_hint: str = "",
                 recovery_dialog: Callable[[QWidget], RecoveryDialog] = RecoveryDialog,
                 first_passphrase_dialog: Callable[[QWidget], FirstPassphraseDialog] = FirstPassphraseDialog) -> None:
        super().__init__()
        self.setObjectName("signInWindow")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.data_dir = Path(data_dir)
        self.jobs = jobs
        self.clock = clock
        self.recovery_dialog = recovery_dialog
        self.first_passphrase_dialog = first_passphrase_dialog
        self._attempt: tuple[str, str] | None = None
        pre = workstation.prelogin_settings(self.data_dir)
        self.setWindowTitle(f"Frontier Review — sign in — {pre.workstation_name}")
        self.resize(760, 560)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(ClassificationBanner(pre.system_high))
        self.pages = QStackedWidget()
        outer.addWidget(self.pages, 1)
        outer.addWidget(ClassificationBanner(pre.system_high))

        # Page 1: consent (AC-8). Nothing can be typed until it is acknowledged.
        consent = QWidget()
        cl = QVBoxLayout(consent)
        cl.setContentsMargins(60, 30, 60, 30)
        title = QLabel(pre.workstation_name)
        title.setObjectName("pageTitle")
        title.setTextFormat(Qt.TextFormat.PlainText)
        cl.addWidget(title)
        notice = QLabel("System use notification")
        notice.setObjectName("sectionTitle")
        cl.addWidget(notice)
        self.consent_text = QPlainTextEdit(pre.consent_banner)
        self.consent_text.setReadOnly(True)
        self.consent_text.setObjectName("consentText")
        cl.addWidget(self.consent_text, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        self.consent_button = QPushButton("I understand and consent")
        self.consent_button.setObjectName("primary")
        self.consent_button.clicked.connect(self.acknowledge)
        row.addWidget(self.consent_button)
        cl.addLayout(row)
        self.pages.addWidget(consent)

        # Page 2: credentials.
        creds = QWidget()
        v = QVBoxLayout(creds)
        v.setContentsMargins(60, 30, 60, 30)
        v.addStretch(1)
        card = QFrame()
        card.setObjectName("card")
        card.setMaximumWidth(460)
        form = QFormLayout(card)
        heading = QLabel("Sign in")
        heading.setObjectName("pageTitle")
        form.addRow(heading)
        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("passphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.returnPressed.connect(self.submit)
        self.username.returnPressed.connect(self.passphrase.setFocus)
        form.addRow("Account", self.username)
        form.addRow("Passphrase", self.passphrase)
        self.message = QLabel("")
        self.message.setObjectName("errorText")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        form.addRow(self.message)
        buttons = QHBoxLayout()
        self.recover_button = QPushButton("Use recovery key…")
        self.recover_button.clicked.connect(self.recover)
        self.sign_in_button = QPushButton("Sign in")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.setObjectName("primary")
        self.sign_in_button.clicked.connect(self.submit)
        buttons.addWidget(self.recover_button)
        buttons.addStretch(1)
        buttons.addWidget(self.sign_in_button)
        form.addRow(buttons)
        if demo_hint:
            hint = QLabel(demo_hint)
            hint.setObjectName("hint")
            hint.setWordWrap(True)
            hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(hint)
        h = QHBoxLayout()
        h.addStretch(1)
        h.addWidget(card, 2)
        h.addStretch(1)
        v.addLayout(h)
        v.addStretch(2)
        self.pages.addWidget(creds)

    @Slot()
    def acknowledge(self) -> None:
        self.pages.setCurrentIndex(1)
        (self.passphrase if self.username.text() else self.username).setFocus()

    @property
    def acknowledged(self) -> bool:
        return self.pages.currentIndex() == 1

    @Slot()
    def submit(self) -> None:
        if not self.acknowledged:
            return
        username = self.username.text().strip()
        passphrase = self.passphrase.text()
        if not username or not passphrase:
            self.message.setText("Enter your account name and passphrase.")
            return
        self.message.setText("Checking…")
        self.sign_in_button.setEnabled(False)
        self._attempt = (username, passphrase)
        data_dir, clock = self.data_dir, self.clock
        # progress: the schema updates of a first sign-in after an upgrade, seconds on a large
        # workstation (the text says "schema N of M": no count line under it)
        self.jobs.run(lambda p, _c: workstation.sign_in(data_dir, username, passphrase, clock,
                                                        lambda _d, _t, text: p(0, 0, text)),
                      self._done, self._failed, label="Signing in", parent=self, cancellable=False)

    def _done(self, session: Session) -> None:
        session.runtime.adopt()  # signed in on a job's thread; the GUI thread owns the connection now
        self.passphrase.clear()
        self.message.clear()
        self.sign_in_button.setEnabled(True)
        self.signed_in.emit(session)

    def _failed(self, exc: BaseException) -> None:
        self.passphrase.clear()
        self.sign_in_button.setEnabled(True)
        attempt, self._attempt = self._attempt, None
        if isinstance(exc, PassphraseChangeRequired) and attempt is not None:
            self._choose_own_passphrase(*attempt)
            return
        self.message.setText(failure_text(exc))
        self.passphrase.setFocus()

    def _choose_own_passphrase(self, username: str, current: str) -> None:
        dlg = self.first_passphrase_dialog(self)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            self.message.setText("Sign-in cancelled: choose your own passphrase to continue.")
            return
        new = dlg.passphrase.text()
        if new != dlg.repeat.text():
            self.message.setText("The two new passphrases differ; sign in again.")
            return
        self.message.setText("Creating your signing key…")
        self.sign_in_button.setEnabled(False)
        data_dir, clock = self.data_dir, self.clock
        self.jobs.run(lambda _p, _c: workstation.change_initial_passphrase(data_dir, username, current, new, clock),
                      self._done, self._failed, label="Creating your signing key", parent=self, cancellable=False)

    @Slot()
    def recover(self) -> None:
        dlg = self.recovery_dialog(self)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        key, admin, new = dlg.key.text(), dlg.admin.text().strip(), dlg.passphrase.text()
        data_dir, clock = self.data_dir, self.clock
        self.jobs.run(lambda _p, _c: workstation.recover(data_dir, key, admin, new, clock),
                      self._done, self._failed, label="Recovering", parent=self, cancellable=False)
