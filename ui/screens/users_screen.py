"""Accounts: everyone changes their own passphrase; administrators add accounts, disable/enable
them and reset passphrases. Sensitive actions re-ask the administrator's passphrase; the
services enforce the role, this screen only hides what the role cannot use."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.accounts import DEFAULT_POLICY, Account, Permission, Role, identity_problems
from app.model.errors import FrontierError, ValidationError
from app.services import pki, users, workstation
from ui import theme
from ui.context import UiContext
from ui.widgets.sortable_table import SortableTable

COLUMNS = ("Account", "Name", "Role", "State", "Created")


def _secret_field(name: str) -> QLineEdit:
    field = QLineEdit()
    field.setObjectName(name)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


def _status_label() -> QLabel:
    label = QLabel("")
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def _say(label: QLabel, text: str, ok: bool) -> None:
    label.setText(text)
    label.setStyleSheet(theme.ok_or_error(ok))


class UsersScreen(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.accounts: list[Account] = []
        self.is_admin = ctx.can(Permission.MANAGE_USERS)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        title = QLabel("Accounts")
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        me = ctx.session.account
        who = QLabel(f"Signed in as {me.username} — {me.display_name}, {me.role.label}. "
                     f"{workstation.key_protection(ctx.session.data_dir)}.")
        who.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(who)

        self.table = SortableTable(0, len(COLUMNS))
        self.table.setObjectName("usersTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)

        row = QHBoxLayout()
        if self.is_admin:
            row.addWidget(self._add_box(), 1)
            row.addWidget(self._manage_box(), 1)
        row.addWidget(self._own_box(), 1)
        layout.addLayout(row)
        self.refresh()

    # -- building blocks ---------------------------------------------------------------------------
    def _add_box(self) -> QGroupBox:
        box = QGroupBox("Add account")
        form = QFormLayout(box)
        self.new_username = QLineEdit()
        self.new_username.setObjectName("newUsername")
        self.new_display = QLineEdit()
        self.new_display.setObjectName("newDisplayName")
        self.new_role = QComboBox()
        self.new_role.setObjectName("newRole")
        for role in Role:
            self.new_role.addItem(role.label, role.value)
        self.new_role.setCurrentIndex(self.new_role.findData(Role.REVIEWER.value))
        self.new_passphrase = _secret_field("newPassphrase")
        form.addRow("Account name", self.new_username)
        form.addRow("Display name", self.new_display)
        form.addRow("Role", self.new_role)
        form.addRow("First passphrase", self.new_passphrase)
        # Checked as it is typed (as the setup wizard does), so the administrator is not asked for
        # their own passphrase only to have the new account's refused.
        self.add_feedback = _status_label()
        self.add_feedback.setObjectName("addPolicyFeedback")
        form.addRow(self.add_feedback)
        for field in (self.new_username, self.new_display, self.new_passphrase):
            field.textChanged.connect(self._check_new_account)
        first_hint = QLabel("Give it to the person in person: they replace it at their first sign-in, which "
                            "creates their own signing key (you never hold it).")
        first_hint.setObjectName("hint")
        first_hint.setWordWrap(True)
        form.addRow(first_hint)
        self.add_button = QPushButton("Add account…")
        self.add_button.clicked.connect(self.add_account)
        form.addRow(self.add_button)
        self.add_status = _status_label()
        form.addRow(self.add_status)
        return box

    def _manage_box(self) -> QGroupBox:
        box = QGroupBox("Selected account")
        form = QFormLayout(box)
        buttons = QHBoxLayout()
        self.disable_button = QPushButton("Disable")
        self.disable_button.clicked.connect(lambda: self.set_disabled(True))
        self.enable_button = QPushButton("Enable")
        self.enable_button.clicked.connect(lambda: self.set_disabled(False))
        buttons.addWidget(self.disable_button)
        buttons.addWidget(self.enable_button)
        form.addRow(buttons)
        self.reset_passphrase = _secret_field("resetPassphrase")
        self.reset_passphrase.setAccessibleName("New first passphrase")
        form.addRow("New first passphrase", self.reset_passphrase)
        self.reset_button = QPushButton("Reset passphrase…")
        self.reset_button.setToolTip("Their signing key is revoked; they set their own passphrase and get a new key "
                                     "at the next sign-in. Enable also uses this field.")
        self.reset_button.clicked.connect(self.reset)
        form.addRow(self.reset_button)
        self.pending_label = _status_label()
        form.addRow("Certificates", self.pending_label)
        self.confirm_key = QLineEdit()
        self.confirm_key.setObjectName("confirmKey")
        self.confirm_key.setAccessibleName("Key fingerprint confirmed with the person")
        self.confirm_key.setPlaceholderText("key fingerprint read out by the person (only when asked)")
        form.addRow("Key fingerprint", self.confirm_key)
        self.issue_button = QPushButton("Issue waiting certificates…")
        self.issue_button.clicked.connect(self.issue_certificates)
        form.addRow(self.issue_button)
        self.manage_status = _status_label()
        form.addRow(self.manage_status)
        return box

    def _own_box(self) -> QGroupBox:
        box = QGroupBox("Change my passphrase")
        form = QFormLayout(box)
        self.old_passphrase = _secret_field("oldPassphrase")
        self.own_new = _secret_field("ownNewPassphrase")
        self.own_repeat = _secret_field("ownRepeat")
        form.addRow("Current", self.old_passphrase)
        form.addRow("New", self.own_new)
        form.addRow("Repeat new", self.own_repeat)
        hint = QLabel(f"At least {DEFAULT_POLICY.min_length} characters. Only your key slot is re-wrapped; "
                      "the database is not re-encrypted.")
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        form.addRow(hint)
        self.change_button = QPushButton("Change passphrase")
        self.change_button.clicked.connect(self.change_own)
        form.addRow(self.change_button)
        self.own_status = _status_label()
        form.addRow(self.own_status)
        return box

    def add_problem(self) -> str:
        """What stops the account on the form being added, all of it at once, or "": the rules the
        service applies."""
        username = self.new_username.text().strip()
        problems = identity_problems(username, self.new_display.text())
        passphrase = self._first_passphrase_problem(username, self.new_passphrase.text())
        if passphrase:
            problems.append(f"{passphrase[:1].upper()}{passphrase[1:]}.")
        return " ".join(problems)

    def _check_new_account(self) -> None:
        if not any(f.text() for f in (self.new_username, self.new_display, self.new_passphrase)):
            self.add_feedback.clear()  # an empty form is not an error
            return
        problem = self.add_problem()
        _say(self.add_feedback, problem or "First passphrase meets the policy.", not problem)

    def _first_passphrase_problem(self, username: str, passphrase: str) -> str:
        try:
            users.check_first_passphrase(passphrase, username)
        except ValidationError as exc:
            return str(exc)
        return ""

    # -- data ----------------------------------------------------------------------------------------
    def refresh(self) -> None:
        if self.ctx.session.locked:
            return
        self.accounts = users.list_users(self.ctx.session)
        self.table.setRowCount(len(self.accounts))
        for r, a in enumerate(self.accounts):
            values = (a.username, a.display_name, a.role.label, "disabled" if a.disabled else "active",
                      a.created_at[:10])
            for c, v in enumerate(values):
                item = QTableWidgetItem(v)
                if c == 3 and a.disabled:
                    item.setForeground(Qt.GlobalColor.darkRed)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        if self.is_admin:
            waiting = pki.pending_requests(self.ctx.session)
            self.pending_label.setText("none waiting" if not waiting else "; ".join(
                f"{p.username} (" + ("proven by first passphrase" if p.enrolment_proof
                                     else f"confirm key {p.key_fingerprint[:16]}…") + ")" for p in waiting))
            self.issue_button.setEnabled(bool(waiting))

    def selected(self) -> Account | None:
        row = self.table.currentRow()
        return self.accounts[row] if 0 <= row < len(self.accounts) else None

    def select(self, username: str) -> None:
        for r, a in enumerate(self.accounts):
            if a.username == username:
                self.table.selectRow(self.table.view_row(r))
                return

    # -- actions -------------------------------------------------------------------------------------
    @Slot()
    def add_account(self) -> None:
        username = self.new_username.text().strip()
        problem = self.add_problem()
        if problem:  # before the administrator's passphrase is asked for, not after
            _say(self.add_status, f"Not added — {problem}", False)
            return
        admin_pass = self.ctx.ask_passphrase(self, f"Enter your passphrase to create the account '{username}'.")
        if admin_pass is None:
            return
        session, display, role, first = (self.ctx.session, self.new_display.text(), Role(self.new_role.currentData()),
                                         self.new_passphrase.text())
        # Two key derivations (the admin's check, the new slot): a job, off the GUI thread.
        self._job(lambda: users.add_user(session, admin_pass, username, display, role, first),
                  lambda _r: self._added(username), self.add_status, "Not added", f"Creating account {username}…")

    def _job(self, work: Callable[[], object], done: Callable[[object], None], status: QLabel, refused: str,
             label: str) -> None:
        """Run a key-deriving action as a job; a refusal (ValidationError names the field) goes to `status`."""
        def failed(exc: BaseException) -> None:
            if isinstance(exc, FrontierError):
                _say(status, f"{refused} — {exc}", False)
            else:
                self.ctx.show_error(self, exc)

        self.ctx.jobs.run(lambda _p, _c: work(), done, failed, label=label, parent=self, cancellable=False)

    def _added(self, username: str) -> None:
        self.new_passphrase.clear()
        self.new_username.clear()
        self.new_display.clear()
        _say(self.add_status, f"Account '{username}' created. Give the first passphrase to its owner in person; "
             "they choose their own at first sign-in, then issue their certificate here.", True)
        self.refresh()
        self.select(username)

    def set_disabled(self, disabled: bool) -> None:
        account = self.selected()
        if account is None:
            _say(self.manage_status, "Select an account first.", False)
            return
        if disabled and not self.ctx.confirm(self, "Disable account",
                                             f"Disable '{account.username}'? Their key slot is removed and their "
                                             "certificates revoked; enabling later gives a new first passphrase.",
                                             "Disable"):
            return
        if not disabled and not self.reset_passphrase.text():
            _say(self.manage_status, "Enter a new first passphrase for the account, then Enable.", False)
            return
        problem = "" if disabled else self._first_passphrase_problem(account.username, self.reset_passphrase.text())
        if problem:
            _say(self.manage_status, f"Not enabled — {problem}", False)
            return
        admin_pass = self.ctx.ask_passphrase(
            self, f"Enter your passphrase to {'disable' if disabled else 'enable'} '{account.username}'.")
        if admin_pass is None:
            return
        session, username = self.ctx.session, account.username
        first = None if disabled else self.reset_passphrase.text()
        verb = "disabled" if disabled else "enabled"
        self._job(lambda: users.set_disabled(session, username, disabled, admin_pass, first),
                  lambda _r: self._was_set(username, verb), self.manage_status, f"Not {verb}",
                  f"{'Disabling' if disabled else 'Enabling'} {username}…")

    def _was_set(self, username: str, verb: str) -> None:
        self.reset_passphrase.clear()
        _say(self.manage_status, f"'{username}' {verb}.", True)
        self.refresh()
        self.select(username)

    @Slot()
    def reset(self) -> None:
        account = self.selected()
        if account is None:
            _say(self.manage_status, "Select an account first.", False)
            return
        if account.username == self.ctx.session.account.username:
            _say(self.manage_status, "Not reset — change your own passphrase under Change my passphrase (it keeps "
                 "your key).", False)
            return
        problem = self._first_passphrase_problem(account.username, self.reset_passphrase.text())
        if problem:
            _say(self.manage_status, f"Not reset — {problem}", False)
            return
        admin_pass = self.ctx.ask_passphrase(
            self, f"Enter your passphrase to reset the passphrase of '{account.username}'.")
        if admin_pass is None:
            return
        session, username, new = self.ctx.session, account.username, self.reset_passphrase.text()
        self._job(lambda: users.reset_passphrase(session, admin_pass, username, new),
                  lambda _r: self._was_reset(username), self.manage_status, "Not reset",
                  f"Resetting the passphrase of {username}…")

    def _was_reset(self, username: str) -> None:
        self.reset_passphrase.clear()
        _say(self.manage_status, f"Passphrase of '{username}' reset.", True)

    @Slot()
    def issue_certificates(self) -> None:
        """Certify keys people created at their first sign-in; a request without the enrolment
        proof needs the fingerprint the selected person reads from their own screen."""
        account = self.selected()
        confirmed = self.confirm_key.text().strip()
        session = self.ctx.session
        if confirmed and account is not None:
            admin_pass = self.ctx.ask_passphrase(self, f"Enter your passphrase to certify {account.username}'s key.")
            if admin_pass is None:
                return
            username = account.username

            def work() -> list[str]:
                pki.reissue_certificate(session, username, admin_pass, confirmed)
                return [username]
        else:
            def work() -> list[str]:
                return pki.issue_pending(session)
        self._job(work, self._issued, self.manage_status, "Not issued", "Issuing certificates…")

    def _issued(self, result: object) -> None:
        issued = [str(u) for u in result] if isinstance(result, list) else []
        self.confirm_key.clear()
        left = [p.username for p in pki.pending_requests(self.ctx.session)]
        _say(self.manage_status, (f"Issued to {', '.join(issued)}." if issued else "Nothing issued.")
             + (f" Still waiting: {', '.join(left)} (select the account and enter the key fingerprint they read "
                "out)." if left else ""), bool(issued))
        self.refresh()

    @Slot()
    def change_own(self) -> None:
        if self.own_new.text() != self.own_repeat.text():
            _say(self.own_status, "The two new passphrases differ.", False)
            return
        session, old, new = self.ctx.session, self.old_passphrase.text(), self.own_new.text()
        self.old_passphrase.clear()
        self._job(lambda: users.change_own_passphrase(session, old, new), lambda _r: self._changed_own(),
                  self.own_status, "Not changed", "Changing your passphrase…")

    def _changed_own(self) -> None:
        self.own_new.clear()
        self.own_repeat.clear()
        _say(self.own_status, "Passphrase changed.", True)
