"""Partners: the register of organisations that may receive what leaves the workstation (issue 16).

Everyone reads: each partner's codes, ceiling, TLP, contacts and certificates (with SHA-256
fingerprints and expiry, to compare with the partner by telephone). Administrators add, change,
deactivate and add certificates; the service signs and audits each change. A row that no longer
matches what an administrator signed is shown as NOT SIGNED, with why.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.accounts import Permission
from app.model.dissemination import CertificatePurpose
from app.model.errors import FrontierError, ValidationError
from app.model.markings import Level
from app.model.partners import Contact, Partner, PartnerKind
from app.model.vulnerabilities import Tlp
from app.services import partners
from ui.context import UiContext
from ui.widgets.sortable_table import SortableTable

COLUMNS = ("Name", "Kind", "Codes (REL TO)", "Up to", "TLP", "Contacts", "Certificates", "State")
CERT_COLUMNS = ("Purpose", "Valid until", "SHA-256 fingerprint")
FP_COLUMN = 2
_ID_ROLE = Qt.ItemDataRole.UserRole


def _choose_certificate(parent: QWidget) -> str | None:
    name, _ = QFileDialog.getOpenFileName(parent, "Partner certificate on the media", "",
                                          "Certificates (*.pem *.crt *.cer *.der);;All files (*)")
    return name or None


def fingerprint_text(fingerprint: str) -> str:
    """Groups of four hexadecimal digits, as read aloud when comparing by telephone."""
    fp = fingerprint.upper()
    groups = [fp[i:i + 4] for i in range(0, len(fp), 4)]
    return "\n".join(" ".join(groups[i:i + 6]) for i in range(0, len(groups), 6))


def contacts_text(contacts: tuple[Contact, ...]) -> str:
    return "\n".join("; ".join((c.name, c.email, c.phone, c.role)).rstrip("; ") for c in contacts)


def parse_contacts(text: str) -> tuple[Contact, ...]:
    """One contact a line: NAME; EMAIL; PHONE; ROLE (only the name is required)."""
    found = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(";")]
        if parts and parts[0]:
            found.append(Contact(*[*parts, "", "", ""][:4]))
        elif any(parts):
            raise ValidationError("contacts", f"{line.strip()!r}: a contact line starts with the person's name")
    return tuple(found)


class PartnersScreen(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.admin = ctx.can(Permission.MANAGE_PARTNERS)
        self.choose_certificate: Callable[[QWidget], str | None] = _choose_certificate  # tests replace
        self.rows: list[Partner] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        title = QLabel("Partners")
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        hint = QLabel("Organisations that may receive packages, releases and advisories: what each may receive "
                      "(codes for REL TO, highest classification, TLP) and the certificates packages are sealed to "
                      "and receipts are checked against. " + (
                          "Each change you make is signed with your key and audited." if self.admin else
                          "Only an administrator changes the register."))
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.table = SortableTable(0, len(COLUMNS))
        self.table.setObjectName("partnersTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.itemSelectionChanged.connect(self._selected)
        layout.addWidget(self.table, 1)
        details = self._details()
        details.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout.addWidget(details)
        self.status = QLabel("")
        self.status.setObjectName("partnersStatus")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.status)
        self.refresh()

    # -- layout ------------------------------------------------------------------------------------
    def _details(self) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        form_box = QGroupBox("Partner" if self.admin else "Partner (read only)")
        form = QGridLayout(form_box)
        self.name = QLineEdit()
        self.name.setObjectName("partnerName")
        self.kind = QComboBox()
        self.kind.setObjectName("partnerKind")
        for k in PartnerKind:
            self.kind.addItem(k.value, k)
        self.codes = QLineEdit()
        self.codes.setObjectName("partnerCodes")
        self.codes.setPlaceholderText("country and organisation codes, e.g. GBR, FVEY")
        self.level = QComboBox()
        self.level.setObjectName("partnerLevel")
        for level in Level:
            self.level.addItem(level.banner_word, level)
        self.tlp = QComboBox()
        self.tlp.setObjectName("partnerTlp")
        for t in Tlp:
            self.tlp.addItem(f"TLP:{t.value}", t)
        self.accesses = QLineEdit()
        self.accesses.setObjectName("partnerAccesses")
        self.accesses.setPlaceholderText("SCI / SAP / AEA accesses it holds, comma separated")
        self.developer = QLineEdit()
        self.developer.setObjectName("partnerDeveloper")
        self.developer.setPlaceholderText("for a developer: its name as submissions record it")
        self.contacts = QPlainTextEdit()
        self.contacts.setObjectName("partnerContacts")
        self.contacts.setPlaceholderText("one a line: Name; email; phone; role")
        self.contacts.setFixedHeight(56)
        # Two label/field pairs a row: the register table above keeps most of the height.
        pairs = (("Name", self.name), ("Kind", self.kind), ("Codes", self.codes), ("Up to", self.level),
                 ("Accepts up to", self.tlp), ("Accesses", self.accesses), ("Developer", self.developer))
        for i, (label, field) in enumerate(pairs):
            form.addWidget(QLabel(label), i // 2, (i % 2) * 2)
            form.addWidget(field, i // 2, (i % 2) * 2 + 1)
        form.addWidget(QLabel("Contacts"), 4, 0)
        form.addWidget(self.contacts, 4, 1, 1, 3)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add partner")
        self.add_button.clicked.connect(self.add)
        self.save_button = QPushButton("Save changes")
        self.save_button.clicked.connect(self.save)
        self.active_button = QPushButton("Deactivate")
        self.active_button.clicked.connect(self.toggle_active)
        for b in (self.add_button, self.save_button, self.active_button):
            buttons.addWidget(b)
            b.setVisible(self.admin)
        buttons.addStretch(1)
        form.addLayout(buttons, 5, 0, 1, 4)
        for w in (self.name, self.codes, self.accesses, self.developer):
            w.setReadOnly(not self.admin)
        self.contacts.setReadOnly(not self.admin)
        for c in (self.kind, self.level, self.tlp):
            c.setEnabled(self.admin)
        row.addWidget(form_box, 1)

        certs_box = QGroupBox("Certificates")
        certs = QVBoxLayout(certs_box)
        self.certs = SortableTable(0, len(CERT_COLUMNS))
        self.certs.setObjectName("partnerCertificates")
        self.certs.setHorizontalHeaderLabels(CERT_COLUMNS)
        self.certs.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.certs.verticalHeader().setVisible(False)
        self.certs.setWordWrap(False)
        self.certs.setSortingEnabled(True)
        self.certs.setMaximumHeight(150)
        self.certs.horizontalHeader().setSectionResizeMode(FP_COLUMN, QHeaderView.ResizeMode.Stretch)
        certs.addWidget(self.certs, 1)
        self.signed = QLabel("")
        self.signed.setObjectName("partnerSigned")
        self.signed.setWordWrap(True)
        self.signed.setTextFormat(Qt.TextFormat.PlainText)
        certs.addWidget(self.signed)
        add_row = QHBoxLayout()
        self.purpose = QComboBox()
        self.purpose.setObjectName("certificatePurpose")
        self.purpose.addItem("for encrypting packages to it", CertificatePurpose.ENCRYPTION)
        self.purpose.addItem("for checking its receipts", CertificatePurpose.RECEIPT)
        self.cert_button = QPushButton("Add certificate…")
        self.cert_button.clicked.connect(self.add_certificate)
        add_row.addWidget(self.cert_button)
        add_row.addWidget(self.purpose, 1)
        self.purpose.setVisible(self.admin)
        self.cert_button.setVisible(self.admin)
        certs.addLayout(add_row)
        row.addWidget(certs_box, 1)
        return box

    # -- reading -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        if self.ctx.session.locked:
            return
        selected = self.selected_id()
        try:
            self.rows = partners.list_all(self.ctx.session)
            problems = {p.id: partners.problem(self.ctx.session, int(p.id or 0)) for p in self.rows}
            certs = {p.id: partners.certificate_records(self.ctx.session, int(p.id or 0)) for p in self.rows}
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        now = self.ctx.session.clock()
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(self.rows))
        for r, p in enumerate(self.rows):
            why = problems[p.id]
            state = (f"NOT SIGNED: {why}" if why else "signed") + ("" if p.active else " · deactivated")
            valid = [c for c in certs[p.id] if not c.expired(now)]
            cert_text = ", ".join(sorted({c.purpose.value for c in valid})) or "none"
            cells = (p.name, p.kind.value, ", ".join(p.codes), p.max_level.banner_word, f"TLP:{p.tlp.value}",
                     str(len(p.contacts)), cert_text, state)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(_ID_ROLE, p.id)
                if c == len(cells) - 1 and why:
                    item.setForeground(QBrush(QColor("#b00020")))
                    item.setToolTip(why)
                self.table.setItem(r, c, item)
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        if selected is not None:
            self.select(selected)
        self._selected()  # the details follow the refreshed row even when the selection did not change

    def selected_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        value = item.data(_ID_ROLE) if item else None
        return int(value) if value is not None else None

    def select(self, partner_id: int) -> None:
        for r in range(self.table.rowCount()):
            item = self.table.item(r, 0)
            if item is not None and item.data(_ID_ROLE) == partner_id:
                self.table.selectRow(r)
                self._selected()
                return

    def _selected(self) -> None:
        pid = self.selected_id()
        self._show(next((p for p in self.rows if p.id == pid), None))

    def _show(self, p: Partner | None) -> None:
        self.save_button.setEnabled(p is not None)
        self.active_button.setEnabled(p is not None)
        self.cert_button.setEnabled(p is not None)
        self.certs.setRowCount(0)
        if p is None:
            self.signed.setText("Select a partner to see its certificates.")
            return
        self.name.setText(p.name)
        self.kind.setCurrentIndex(self.kind.findData(p.kind))
        self.codes.setText(", ".join(p.codes))
        self.level.setCurrentIndex(self.level.findData(p.max_level))
        self.tlp.setCurrentIndex(self.tlp.findData(p.tlp))
        self.accesses.setText(", ".join(p.accesses))
        self.developer.setText(p.developer)
        self.contacts.setPlainText(contacts_text(p.contacts))
        self.active_button.setText("Deactivate" if p.active else "Reactivate")
        now = self.ctx.session.clock()
        try:
            records = partners.certificate_records(self.ctx.session, int(p.id or 0))
            why = partners.problem(self.ctx.session, int(p.id or 0))
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self.certs.setSortingEnabled(False)  # filled row by row below; sorted again after
        self.certs.setRowCount(len(records))
        for r, rec in enumerate(records):
            expiry = f"{rec.not_after:%Y-%m-%d}" + (" (EXPIRED)" if rec.expired(now) else "")
            for c, text in enumerate((rec.purpose.value, expiry, fingerprint_text(rec.fingerprint))):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{rec.subject}; added by {rec.added_by} on {rec.added_at[:10]}")
                if c == FP_COLUMN:
                    item.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
                if c == 1 and rec.expired(now):
                    item.setForeground(QBrush(QColor("#b00020")))
                self.certs.setItem(r, c, item)
        self.certs.setSortingEnabled(True)
        self.certs.resizeColumnToContents(0)
        self.certs.resizeColumnToContents(1)
        self.certs.resizeRowsToContents()
        self.signed.setText(f"NOT SIGNED: {why}. Nothing is shared with it until an administrator reviews and "
                            "saves it." if why else "Signed by an administrator: its content is as they saved it.")

    # -- changes (administrators; the service checks) ------------------------------------------------
    def _form_partner(self) -> Partner:
        def split(text: str) -> tuple[str, ...]:
            return tuple(x.strip() for x in text.replace(";", ",").split(",") if x.strip())

        return Partner(name=self.name.text(), kind=PartnerKind(self.kind.currentData()), codes=split(self.codes.text()),
                       max_level=Level(self.level.currentData()), tlp=Tlp(self.tlp.currentData()),
                       accesses=split(self.accesses.text()), developer=self.developer.text().strip(),
                       contacts=parse_contacts(self.contacts.toPlainText()))

    def add(self) -> Partner | None:
        try:
            p = partners.add(self.ctx.session, self._form_partner())
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return None
        self.status.setText(f"{p.name} registered (signed and audited).")
        self.refresh()
        self.select(int(p.id or 0))
        return p

    def save(self) -> Partner | None:
        pid = self.selected_id()
        if pid is None:
            return None
        try:
            p = partners.update(self.ctx.session, pid, self._form_partner())
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return None
        self.status.setText(f"{p.name} saved (signed and audited).")
        self.refresh()
        return p

    def toggle_active(self) -> None:
        pid = self.selected_id()
        current = next((p for p in self.rows if p.id == pid), None)
        if current is None or pid is None:
            return
        if current.active and not self.ctx.confirm(self, "Deactivate partner",
                                                   f"Share nothing more with {current.name}? Its history stays in "
                                                   "the dissemination log.", "Deactivate"):
            return
        try:
            p = partners.deactivate(self.ctx.session, pid) if current.active else partners.reactivate(
                self.ctx.session, pid)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self.status.setText(f"{p.name} {'reactivated' if p.active else 'deactivated'} (signed and audited).")
        self.refresh()

    def add_certificate(self) -> None:
        pid = self.selected_id()
        if pid is None:
            return
        path = self.choose_certificate(self)
        if not path:
            return
        purpose = CertificatePurpose(self.purpose.currentData())
        try:
            rec = partners.add_certificate(self.ctx.session, pid, Path(path), purpose)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self.status.setText(f"{purpose.value} certificate {rec.subject} added; SHA-256 {rec.fingerprint.upper()} — "
                            "compare it with the partner before relying on it.")
        self.refresh()
