"""First-run setup wizard: name, system-high and consent text, administrator, key protection,
recovery key shown once and confirmed by retyping one of its groups."""

from __future__ import annotations

import secrets
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from app.model.accounts import DEFAULT_POLICY, USERNAME_RULE, identity_problems
from app.model.errors import FrontierError, ValidationError
from app.model.markings import Marking, parse_declassify_on
from app.model.settings import Settings, marking_block_fields
from app.services import workstation
from app.services.session import Clock, utc_now
from app.services.workstation import SetupResult
from ui import theme
from ui.banner import ClassificationBanner
from ui.widgets.marking_picker import MarkingPicker


def _label(text: str, name: str = "hint") -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


class NamePage(QWizardPage):
    demo_requested = Signal()

    def __init__(self, data_dir: Path) -> None:
        super().__init__()
        self.setTitle("Set up this workstation")
        self.setSubTitle("The database is created encrypted in the data folder below. Nothing leaves this machine.")
        form = QFormLayout(self)
        self.name = QLineEdit()
        self.name.setObjectName("workstationName")
        self.name.setPlaceholderText("e.g. Cyber Evaluation Cell 3")
        self.name.textChanged.connect(self.completeChanged)
        form.addRow("Workstation name", self.name)
        folder = _label(str(data_dir))
        folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Data folder", folder)
        self.demo_button = QPushButton("Explore a demo workstation instead")
        self.demo_button.setObjectName("openDemo")
        self.demo_button.setToolTip("Sample submissions in a temporary folder, deleted on exit; "
                                    "nothing is created in the data folder above.")
        self.demo_button.clicked.connect(self.demo_requested)
        form.addRow("", self.demo_button)

    def isComplete(self) -> bool:
        return bool(self.name.text().strip())


class ClassificationPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Classification")
        self.setSubTitle("The system-high marking is the highest marking this workstation may hold. It is shown "
                         "in the banners at the top and bottom of every screen.")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.picker = MarkingPicker(marking=Marking.parse("SECRET//NOFORN"))
        self.picker.setObjectName("systemHigh")
        form.addRow("System-high", self.picker)
        layout.addLayout(form)
        self.preview = ClassificationBanner(self.picker.marking().banner())
        self.picker.changed.connect(lambda m: self.preview.set_marking(m.banner()))
        layout.addWidget(_label("Banner preview:"))
        layout.addWidget(self.preview)
        layout.addWidget(_label("Consent banner shown before every sign-in (AC-8). Edit it to your agency's "
                                "approved text:"))
        self.consent = QPlainTextEdit(Settings().consent_banner)
        self.consent.setObjectName("consentBanner")
        self.consent.textChanged.connect(self.completeChanged)
        layout.addWidget(self.consent, 1)

    def isComplete(self) -> bool:
        return bool(self.consent.toPlainText().strip())


class AuthorityPage(QWizardPage):
    """Classification authority and CUI designation blocks: asked now, so no reviewer later meets a
    report that cannot be built for a settings reason. Required as far as the system-high needs."""

    FIELDS = (("classified_by", "Classified by", "e.g. J. Smith, Director, Cyber Evaluation Cell"),
              ("derived_from", "Derived from", "e.g. AI Cyber Evaluation SCG, 2026-06"),
              ("declassify_on", "Declassify on", "e.g. 20510601 or 25X1"),
              ("cui_controlled_by", "CUI controlled by", "e.g. Cyber Evaluation Cell"),
              ("cui_category", "CUI category", "e.g. CTI"),
              ("cui_poc", "CUI point of contact", "e.g. cui-office@agency.example (optional)"))

    def __init__(self, class_page: ClassificationPage) -> None:
        super().__init__()
        self.class_page = class_page
        self.setTitle("Classification authority and CUI blocks")
        self.setSubTitle("Printed on the first page of every classified or CUI report. Reports cannot be built "
                         "without them, so they are set now; an administrator can change them in Settings.")
        form = QFormLayout(self)
        self.edits: dict[str, QLineEdit] = {}
        for key, label, hint in self.FIELDS:
            edit = QLineEdit()
            edit.setObjectName(key)
            edit.setPlaceholderText(hint)
            edit.textChanged.connect(self.completeChanged)
            edit.textChanged.connect(self._check)
            self.edits[key] = edit
            form.addRow(label, edit)
        self.feedback = _label("", "hint")
        self.feedback.setObjectName("authorityFeedback")
        form.addRow(self.feedback)

    def required(self) -> tuple[str, ...]:
        return marking_block_fields(self.class_page.picker.marking().level)

    def missing(self) -> list[str]:
        labels = {k: label for k, label, _h in self.FIELDS}
        return [labels[k] for k in self.required() if not self.edits[k].text().strip()]

    def problem(self) -> str:
        """A line that is filled but not valid (checked before the workstation is created)."""
        declassify = self.edits["declassify_on"].text().strip()
        if declassify:
            try:
                parse_declassify_on(declassify)
            except ValidationError as exc:
                return f"Declassify on: {exc.reason}"
        return ""

    def values(self) -> dict[str, object]:
        return {k: e.text().strip() for k, e in self.edits.items() if e.text().strip()}

    def initializePage(self) -> None:
        self._check()

    def _check(self) -> None:
        missing = self.missing()
        lines = [("Required for a system-high of " + self.class_page.picker.marking().banner() + ": "
                  + ", ".join(missing)) if missing else "", self.problem()]
        self.feedback.setText("\n".join(line for line in lines if line))

    def isComplete(self) -> bool:
        return not self.missing() and not self.problem()


class AdminPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Administrator account")
        self.setSubTitle("The administrator manages accounts. Reviewers get their own accounts afterwards.")
        form = QFormLayout(self)
        self.username = QLineEdit("admin")
        self.username.setObjectName("adminUsername")
        self.display = QLineEdit()
        self.display.setObjectName("adminDisplayName")
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("adminPassphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat = QLineEdit()
        self.repeat.setObjectName("adminRepeat")
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("Account name", self.username)
        form.addRow("Display name", self.display)
        form.addRow("Passphrase", self.passphrase)
        form.addRow("Repeat passphrase", self.repeat)
        form.addRow(_label(f"Account names: {USERNAME_RULE}. Passphrases: at least {DEFAULT_POLICY.min_length} "
                           "characters; a few unrelated words are easiest to remember."))
        self.feedback = _label("", "errorText")
        self.feedback.setObjectName("policyFeedback")
        form.addRow(self.feedback)
        for w in (self.username, self.display, self.passphrase, self.repeat):
            w.textChanged.connect(self._check)
        self._check()

    def problems(self) -> list[str]:
        """Every problem of the page at once, each naming its field (checked live as the user types)."""
        username = self.username.text().strip()
        found = identity_problems(username, self.display.text())
        try:
            DEFAULT_POLICY.check(self.passphrase.text(), username)
        except ValidationError as exc:
            found.append(f"Passphrase {exc.reason}.")
        if self.repeat.text() and self.passphrase.text() != self.repeat.text():
            found.append("The two passphrases differ.")
        elif self.passphrase.text() and not self.repeat.text():
            found.append("Repeat the passphrase.")
        return found

    def problem(self) -> str:
        return "\n".join(self.problems())

    def _check(self) -> None:
        problem = self.problem()
        self.feedback.setObjectName("errorText" if problem else "okText")
        self.feedback.setText(problem or "Passphrase meets the policy.")
        self.feedback.setStyleSheet(theme.ok_or_error(not problem))
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return not self.problem()


class KeyProtectionPage(QWizardPage):
    """Shows the keyring mode and creates the workstation when the reviewer presses Next."""

    def __init__(self, wizard: SetupWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Key protection")
        self.setSubTitle("How the database key is protected on this machine.")
        layout = QVBoxLayout(self)
        layout.addWidget(_label("The database key is wrapped under each account's passphrase. Where the operating "
                                "system offers a secure keyring, a secret held there is mixed in too, so a copied "
                                "database plus a passphrase is not enough on another machine."))
        status = workstation.keyring_status()
        self.trusted = status.trusted
        if status.trusted:
            text = f"Secure OS keyring available: {status.backend}."
        else:
            text = (f"No trusted OS keyring ({status.reason}; backend: {status.backend}). The workstation will "
                    "use passphrase-only mode: the database is still encrypted, but a copy can be opened "
                    "elsewhere with a passphrase or the recovery key.")
        self.status_label = _label(text, "okText" if status.trusted else "warningText")
        layout.addWidget(self.status_label)
        self.use_keyring = QCheckBox("Mix the OS keyring secret into every key (recommended)")
        self.use_keyring.setChecked(status.trusted)
        self.use_keyring.setEnabled(status.trusted)
        layout.addWidget(self.use_keyring)
        layout.addWidget(_label("Pressing Next creates the encrypted workstation and shows the recovery key once."))
        self.error = _label("", "errorText")
        layout.addWidget(self.error)
        layout.addStretch(1)

    def validatePage(self) -> bool:
        self.error.clear()
        try:
            self.wiz.create_workstation(self.use_keyring.isChecked() and self.trusted)
        except FrontierError as exc:
            self.error.setText(str(exc))
            return False
        return True


class RecoveryPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Recovery key — shown only once")
        self.setSubTitle("Print or write down this key and store it under the workstation's classification. It "
                         "opens the workstation if every administrator passphrase is lost.")
        layout = QVBoxLayout(self)
        self.key_label = QLabel()
        self.key_label.setObjectName("recoveryKey")
        self.key_label.setWordWrap(True)
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.key_label)
        self.prompt = _label("")
        layout.addWidget(self.prompt)
        self.confirm = QLineEdit()
        self.confirm.setObjectName("recoveryConfirm")
        self.confirm.setMaxLength(4)
        self.confirm.textChanged.connect(self.completeChanged)
        layout.addWidget(self.confirm)
        self.feedback = _label("", "hint")
        layout.addWidget(self.feedback)
        layout.addStretch(1)
        self.groups: list[str] = []
        self.group_index = 0

    def set_key(self, key: str, group_index: int | None = None) -> None:
        self.groups = key.split("-")
        self.group_index = secrets.randbelow(len(self.groups)) if group_index is None else group_index
        # Line breaks every four groups keep it readable when printed by hand.
        lines = ["-".join(self.groups[i:i + 4]) for i in range(0, len(self.groups), 4)]
        self.key_label.setText("\n".join(lines))
        self.prompt.setText(f"To confirm you have recorded it, type group number {self.group_index + 1} "
                            f"(of {len(self.groups)}):")

    def isComplete(self) -> bool:
        typed = self.confirm.text().strip().upper()
        ok = bool(self.groups) and typed == self.groups[self.group_index]
        if len(typed) == 4 and not ok:
            self.feedback.setText("That group does not match the key above.")
        else:
            self.feedback.setText("")
        return ok


class SetupWizard(QWizard):
    """Emits `completed(SetupResult)` after Finish; the admin session is then signed in."""

    completed = Signal(object)
    demo_requested = Signal()  # first page: "explore a demo workstation instead"

    def __init__(self, data_dir: Path, clock: Clock = utc_now, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data_dir = Path(data_dir)
        self.clock = clock
        self.result_: SetupResult | None = None
        self.setWindowTitle("Frontier Review — workstation setup")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.resize(720, 560)
        self.name_page = NamePage(self.data_dir)
        self.name_page.demo_requested.connect(self.demo_requested)
        self.class_page = ClassificationPage()
        self.authority_page = AuthorityPage(self.class_page)
        self.admin_page = AdminPage()
        self.key_page = KeyProtectionPage(self)
        self.recovery_page = RecoveryPage()
        for page in (self.name_page, self.class_page, self.authority_page, self.admin_page, self.key_page,
                     self.recovery_page):
            self.addPage(page)

    def create_workstation(self, use_keyring: bool) -> SetupResult:
        if self.result_ is not None:
            return self.result_  # Back then Next again must not try to create twice
        a = self.admin_page
        self.result_ = workstation.initialize(
            self.data_dir,
            workstation_name=self.name_page.name.text().strip(),
            system_high=self.class_page.picker.marking().banner(),
            admin_username=a.username.text().strip(),
            admin_display_name=a.display.text().strip(),
            admin_passphrase=a.passphrase.text(),
            use_keyring=use_keyring,
            banner_text=self.class_page.consent.toPlainText().strip(),
            clock=self.clock,
        )
        authority = self.authority_page.values()
        if authority:
            workstation.update_settings(self.result_.session, authority)
        a.passphrase.clear()
        a.repeat.clear()
        self.recovery_page.set_key(self.result_.recovery_key)
        return self.result_

    def reject(self) -> None:
        """Escape / window close: allowed until the workstation exists; after that the recovery
        key must be confirmed first (it is never shown again)."""
        if self.result_ is not None:
            self.recovery_page.feedback.setText("The workstation has been created: confirm the recovery key "
                                                "group to finish. The key is not shown again.")
            return
        super().reject()

    def accept(self) -> None:
        super().accept()
        if self.result_ is not None:
            self.completed.emit(self.result_)
