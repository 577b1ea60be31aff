"""CSAF export dialog: which partner the advisories are for, and why something may not go.

The recipient comes from the partner register. Each selected entry shows whether the partner may
receive it and, if not, every reason (app/services/csaf_sharing.py decides; the dialog only draws).
Embargo and TLP can be overridden by a lead with a reason; markings never. The folder, media label
and signed-package choice complete the request; the register screen runs the export.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.errors import FrontierError
from app.model.markings import rollup
from app.model.vulnerabilities import Vulnerability
from app.services import csaf_sharing, partners, vuln_signatures
from app.services import vulnerabilities as vs
from ui.banner import add_banners, window_marking
from ui.context import UiContext
from ui.errors import sanitize

REFUSED_BG = QColor("#ffebe9")
OVERRIDE_BG = QColor("#fff8c5")


@dataclass(frozen=True)
class ExportRequest:
    vuln_ids: tuple[str, ...]
    recipient: str
    folder: Path
    media_label: str
    package: bool
    override_reason: str


class CsafExportDialog(QDialog):
    """Asks the recipient, media and folder; shows what is withheld and offers a lead's override."""

    def __init__(self, ctx: UiContext, vuln_ids: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.vulns: list[Vulnerability] = [vs.get(ctx.session, vid) for vid in vuln_ids]
        self.withheld: list[csaf_sharing.Withheld] = []
        self.folder: Path | None = None
        self.setWindowTitle("Export CSAF advisories")
        self.resize(960, 560)

        form = QFormLayout()
        self.recipient = QComboBox()
        self.recipient.setObjectName("csafRecipient")
        self.recipient.setAccessibleName("Recipient (partner)")
        self.recipient.addItem("(choose the partner)", None)
        try:
            for p in partners.list_all(ctx.session):
                if p.active and p.id is not None and partners.problem(ctx.session, p.id) is None:
                    self.recipient.addItem(f"{p.name} ({p.kind.value}; up to {p.max_level.banner_word}, "
                                           f"TLP:{p.tlp.value})", p.name)
        except FrontierError as exc:
            self.recipient.setToolTip(str(exc))
        form.addRow("Recipient", self.recipient)
        self.media = QLineEdit(ctx.session.settings.system_high)
        self.media.setObjectName("csafMediaLabel")
        self.media.setAccessibleName("Media label")
        form.addRow("Media label", self.media)
        folder_row = QHBoxLayout()
        self.folder_label = QLabel("(no folder chosen)")
        self.folder_label.setTextFormat(Qt.TextFormat.PlainText)
        choose = QPushButton("Choose folder…")
        choose.clicked.connect(self._choose_folder)
        folder_row.addWidget(self.folder_label, 1)
        folder_row.addWidget(choose)
        form.addRow("Destination", folder_row)
        self.package = QCheckBox("Signed package (SHA256SUMS and its signature; asks for your passphrase)")
        self.package.setChecked(True)
        form.addRow("", self.package)

        self.table = QTableWidget(0, 6)
        self.table.setObjectName("csafShareCheck")
        self.table.setHorizontalHeaderLabels(["ID", "Mark", "TLP", "Embargo until", "Title", "May it go?"])
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        for col, width in enumerate((160, 60, 110, 115, 220)):  # "Embargo until" whole in its header
            self.table.setColumnWidth(col, width)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)

        self.verdict = QLabel()
        self.verdict.setObjectName("csafShareVerdict")
        self.verdict.setWordWrap(True)
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)
        self.reason = QLineEdit()
        self.reason.setObjectName("csafOverrideReason")
        self.reason.setAccessibleName("Override reason")
        self.reason.setPlaceholderText("Lead only: why these may go despite embargo or TLP (signed and audited)")
        self.reason.setMaxLength(csaf_sharing.MAX_REASON)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setObjectName("csafExport")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.verdict)
        layout.addWidget(self.reason)
        layout.addWidget(buttons)
        self.recipient.currentIndexChanged.connect(self._recheck)
        self.reason.textChanged.connect(self._update_button)
        self.media.textChanged.connect(self._update_button)
        # an entry edited around the application goes to no partner (app/services/vuln_signatures.py)
        self.unsigned = {i: st.problem for i, st in vuln_signatures.standings(ctx.session, self.vulns).items()
                         if st.problem}
        self._recheck()
        add_banners(self, rollup(v.marking for v in self.vulns).banner() if self.vulns else window_marking(parent))

    # -- the sharing check -----------------------------------------------------------------------
    @Slot()
    def _recheck(self) -> None:
        name = self.recipient.currentData()
        self.withheld = []
        problem = ""
        if name:
            try:
                _partner, self.withheld = csaf_sharing.check(self.ctx.session, [v.id for v in self.vulns], name)
            except FrontierError as exc:
                problem = str(exc)
        reasons = {w.vuln_id: w for w in self.withheld}
        self.table.setRowCount(len(self.vulns))
        for row, v in enumerate(self.vulns):
            w, unsigned = reasons.get(v.id), self.unsigned.get(v.id)
            status = "choose the recipient" if not name else "may be shared" if w is None else (
                ("never (marking): " if w.marking else "only with a lead's override: ")
                + "; ".join((*w.marking, *w.handling)))
            if unsigned:
                status = f"not until reviewed and signed: it does not hold its signature ({unsigned})"
            cells = [v.id, v.marking.portion(), v.tlp.value, v.embargo_until.isoformat() if v.embargo_until else "",
                     sanitize(v.title, 200), status]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if unsigned or w is not None:
                    item.setBackground(REFUSED_BG if unsigned or (w is not None and w.marking) else OVERRIDE_BG)
                self.table.setItem(row, col, item)
        self.table.resizeRowsToContents()
        hard = [w for w in self.withheld if w.marking]
        lead = csaf_sharing.may_override(self.ctx.session)
        if problem:
            text = problem
        elif self.unsigned:
            n = len(self.unsigned)
            text = (f"{n} entr{'y does not hold its' if n == 1 else 'ies do not hold their'} signature (edited around "
                    "the application) and may go to no partner until a person who manages the register reviews and "
                    "signs it (Edit…). Deselect them or sign them first.")
        elif not name:
            text = "Choose the partner the advisories are for."
        elif hard:
            text = (f"{len(hard)} entr{'y' if len(hard) == 1 else 'ies'} may not go to this partner by marking; "
                    "markings are never overridden. Deselect them or choose another partner.")
        elif self.withheld:
            text = (f"{len(self.withheld)} entr{'y' if len(self.withheld) == 1 else 'ies'} under embargo or above "
                    "the partner's TLP. " + ("As a lead you may override with a reason below (signed and audited)."
                                            if lead else "Only a lead may override, with a reason."))
        else:
            text = "Every selected entry may be shared with this partner."
        self.verdict.setText(text)
        self.reason.setVisible(bool(self.withheld) and not hard and lead)
        self._update_button()

    def _ready(self) -> bool:
        if not self.recipient.currentData() or self.folder is None or not self.media.text().strip():
            return False
        if self.unsigned or any(w.marking for w in self.withheld):
            return False
        if self.withheld:
            reason = " ".join(self.reason.text().split())
            return csaf_sharing.may_override(self.ctx.session) and len(reason) >= csaf_sharing.MIN_REASON
        return True

    @Slot()
    def _update_button(self) -> None:
        self.export_button.setEnabled(self._ready())

    @Slot()
    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export CSAF advisories to removable media")
        if folder:
            self.set_folder(Path(folder))

    def set_folder(self, folder: Path) -> None:
        self.folder = folder
        self.folder_label.setText(str(folder))
        self._update_button()

    def request(self) -> ExportRequest | None:
        """What to export, once the dialog was accepted with everything needed."""
        if not self._ready() or self.folder is None:
            return None
        reason = " ".join(self.reason.text().split()) if self.withheld else ""
        return ExportRequest(tuple(v.id for v in self.vulns), str(self.recipient.currentData()), self.folder,
                             self.media.text().strip(), self.package.isChecked(), reason)
