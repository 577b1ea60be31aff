"""Dissemination log (issue 16, points 4-5): what left the workstation, to whom, at which marking,
and whether the partner acknowledged it. Filter, print (registered printers or a PDF on media),
import a partner's signed receipt, recall an entry. Also the dashboard panel of overdue receipts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.accounts import Permission
from app.model.dissemination import DisseminationEntry, DisseminationKind, Filters
from app.model.errors import FrontierError, ValidationError
from app.services import dissemination, partners, receipts
from app.services import recall as recall_service
from app.services.recall import RecallNotice
from ui import theme
from ui.context import UiContext
from ui.dialogs.printable_preview import MEDIA_LABELS, PrintablePreview, open_preview
from ui.widgets import column_chooser, column_fit
from ui.widgets.sortable_table import SortableTable

COLUMNS = ("No.", "Sent", "Kind", "What", "To", "Acknowledgment", "Supersedes / recalled", "Marking", "TLP",
           "Embargo", "Media", "Approved by", "Manifest SHA-256")
ACK_COLUMN = COLUMNS.index("Acknowledgment")
LINKS_COLUMN = COLUMNS.index("Supersedes / recalled")
_ID_ROLE = Qt.ItemDataRole.UserRole
OVERDUE_COLOUR = "#b00020"


def _choose_receipt(parent: QWidget) -> str | None:
    name, _ = QFileDialog.getOpenFileName(parent, "Partner's receipt on the media", "",
                                          "Receipts (receipt*.json);;JSON (*.json);;All files (*)")
    return name or None


def _choose_folder(parent: QWidget) -> str | None:
    return QFileDialog.getExistingDirectory(parent, "Folder on the removable media for the recall notices") or None


def ack_text(e: DisseminationEntry, today: date, threshold: int) -> tuple[str, bool]:
    """(text, overdue) for the acknowledgment column."""
    days = e.unacknowledged_days(today)
    if days is None:
        assert e.receipt is not None
        return f"acknowledged {e.receipt.received_at[:10]} (imported by {e.receipt.imported_by})", False
    overdue = days > threshold
    refused = f" (stored receipt REFUSED: {e.receipt_problem})" if e.receipt_problem else ""
    return f"waiting {days} day{'s' if days != 1 else ''}" + (" — OVERDUE" if overdue else "") + refused, overdue


def links_text(e: DisseminationEntry) -> str:
    parts = [f"ENTRY DOES NOT HOLD: {e.record_problem}"] if e.record_problem else []
    if e.supersedes is not None:
        parts.append(f"{'recalls' if e.kind is DisseminationKind.RECALL else 'supersedes'} No. {e.supersedes}")
    if e.superseded_by is not None:
        parts.append(f"superseded by No. {e.superseded_by}")
    if e.recalled_by is not None:
        parts.append(f"RECALLED by No. {e.recalled_by}")
    if e.reason:
        parts.append(f"reason: {e.reason}")
    return "; ".join(parts)


class DisseminationScreen(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.choose_receipt: Callable[[QWidget], str | None] = _choose_receipt  # tests replace the file dialogs
        self.choose_folder: Callable[[QWidget], str | None] = _choose_folder
        self.entries: list[DisseminationEntry] = []
        self.preview: PrintablePreview | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        title = QLabel("Dissemination log")
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        hint = QLabel("Every package, release, CSAF advisory revision and recall notice that left the workstation, "
                      "to whom, at which marking, and the partner's signed receipt. Receipts are overdue after "
                      f"{ctx.session.settings.receipt_overdue_days} days (Settings).")
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addLayout(self._filter_row())
        self.table = SortableTable(0, len(COLUMNS))
        self.table.setObjectName("disseminationTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        # less-used columns start hidden at 1280 px; a right-click on the header shows them
        column_chooser.install(self.table, [COLUMNS.index(c) for c in ("Embargo", "Media", "Approved by",
                                                                        "Manifest SHA-256")])
        column_fit.install(self.table, (COLUMNS.index("What"), COLUMNS.index("To"), ACK_COLUMN, LINKS_COLUMN,
                                        COLUMNS.index("Kind"), COLUMNS.index("Marking")))
        layout.addWidget(self.table, 1)
        actions = QHBoxLayout()
        self.import_button = QPushButton("Import receipt…")
        self.import_button.clicked.connect(self.import_receipt)
        self.recall_button = QPushButton("Recall…")
        self.recall_button.setToolTip("Send a recall notice to every partner that received the selected entry or "
                                      "anything it superseded")
        self.recall_button.clicked.connect(self.recall)
        self.media = QComboBox()
        self.media.setObjectName("recallMedia")
        self.media.setEditable(True)
        self.media.addItems(MEDIA_LABELS)
        self.media.setCurrentText(ctx.session.settings.system_high)
        self.media.setToolTip("Classification label of the media the recall notices are written to")
        self.print_button = QPushButton("Print…")
        self.print_button.setToolTip("Preview the filtered log as a marked PDF; print it on a registered printer or "
                                     "save it to media")
        self.print_button.clicked.connect(self.print_log)
        can_send = ctx.can(Permission.EXPORT)
        for b in (self.import_button, self.recall_button):
            b.setVisible(can_send)
        self.media.setVisible(can_send)
        actions.addWidget(self.import_button)
        actions.addWidget(self.recall_button)
        media_label = QLabel("Recall media label:")
        media_label.setVisible(can_send)
        actions.addWidget(media_label)
        actions.addWidget(self.media)
        actions.addStretch(1)
        actions.addWidget(self.print_button)
        layout.addLayout(actions)
        self.status = QLabel("")
        self.status.setObjectName("disseminationStatus")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.status)
        self.refresh()

    def _filter_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.partner = QComboBox()
        self.partner.setObjectName("filterPartner")
        self.kind = QComboBox()
        self.kind.setObjectName("filterKind")
        self.kind.addItem("All kinds", None)
        for k in DisseminationKind:
            self.kind.addItem(k.label, k)
        self.object = QLineEdit()
        self.object.setObjectName("filterObject")
        self.object.setPlaceholderText("object id")
        self.since = QLineEdit()
        self.since.setObjectName("filterSince")
        self.since.setPlaceholderText("from YYYY-MM-DD")
        self.until = QLineEdit()
        self.until.setObjectName("filterUntil")
        self.until.setPlaceholderText("until YYYY-MM-DD")
        self.unacknowledged = QCheckBox("Unacknowledged only")
        self.unacknowledged.setObjectName("filterUnacknowledged")
        apply = QPushButton("Apply")
        apply.clicked.connect(self.refresh)
        self.unacknowledged.toggled.connect(lambda _on: self.refresh())
        self.partner.activated.connect(lambda _i: self.refresh())
        self.kind.activated.connect(lambda _i: self.refresh())
        for w in (QLabel("Partner"), self.partner, QLabel("Kind"), self.kind, self.object, self.since, self.until,
                  self.unacknowledged, apply):
            row.addWidget(w)
        row.addStretch(1)
        return row

    def _fill_partners(self) -> None:
        current = self.partner.currentData()
        self.partner.clear()
        self.partner.addItem("All partners", None)
        for p in partners.list_all(self.ctx.session):
            self.partner.addItem(p.name, p.id)
        index = self.partner.findData(current)
        self.partner.setCurrentIndex(max(0, index))

    def filters(self) -> Filters:
        def day(edit: QLineEdit, name: str) -> date | None:
            text = edit.text().strip()
            if not text:
                return None
            try:
                return date.fromisoformat(text)
            except ValueError:
                raise ValidationError(name, f"{text!r} is not a date (YYYY-MM-DD)") from None

        return Filters(partner_id=self.partner.currentData(), kind=self.kind.currentData(),
                       object_id=self.object.text().strip() or None, since=day(self.since, "from"),
                       until=day(self.until, "until"), unacknowledged=self.unacknowledged.isChecked())

    def refresh(self) -> None:
        if self.ctx.session.locked:
            return
        try:
            self._fill_partners()
            self.entries = dissemination.entries(self.ctx.session, self.filters())
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        today, threshold = self.ctx.today(), self.ctx.session.settings.receipt_overdue_days
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(self.entries))
        overdue = 0
        for r, e in enumerate(self.entries):
            ack, late = ack_text(e, today, threshold)
            overdue += late
            cells = (str(e.id), e.created_at[:10], e.kind.label, f"{e.marking.portion()} {e.what}", e.partner_name,
                     ack, links_text(e), e.marking.banner(), f"TLP:{e.tlp.value}" if e.tlp else "",
                     e.embargo_until.isoformat() if e.embargo_until else "", e.media_label, e.approved_by,
                     e.manifest_sha256[:16] + "…")
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(_ID_ROLE, e.id)
                if c == 0:
                    item.setData(Qt.ItemDataRole.DisplayRole, e.id)  # sorts as a number
                if c == COLUMNS.index("Manifest SHA-256"):
                    item.setToolTip(e.manifest_sha256)
                if (c == ACK_COLUMN and late) or (e.record_problem and c == LINKS_COLUMN):
                    item.setForeground(QBrush(QColor(OVERDUE_COLOUR)))
                self.table.setItem(r, c, item)
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        column_fit.refit(self.table)
        waiting = sum(1 for e in self.entries if e.receipt is None)
        self.summary = f"{len(self.entries)} entries, {waiting} unacknowledged, {overdue} overdue"
        forged = sum(1 for e in self.entries if e.record_problem)
        if forged:
            self.summary += f", {forged} NOT backed by a signed record"
        if not self.status.text():
            self.status.setText(self.summary)
        self._update_buttons()

    def selected(self) -> DisseminationEntry | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        eid = item.data(_ID_ROLE) if item else None
        return next((e for e in self.entries if e.id == eid), None)

    def select(self, entry_id: int) -> None:
        for r in range(self.table.rowCount()):
            item = self.table.item(r, 0)
            if item is not None and item.data(_ID_ROLE) == entry_id:
                self.table.selectRow(r)
                return

    def _update_buttons(self) -> None:
        e = self.selected()
        self.recall_button.setEnabled(e is not None and e.kind is not DisseminationKind.RECALL
                                      and e.recalled_by is None)
        if e is not None:
            # the marking it went out at: what its partner may receive (system-high media may say NOFORN)
            self.media.setCurrentText(e.marking.banner())

    # -- actions -------------------------------------------------------------------------------------
    def import_receipt(self) -> None:
        path = self.choose_receipt(self)
        if not path:
            return
        try:
            r = receipts.import_receipt(self.ctx.session, Path(path))
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self.status.setText(f"Receipt imported: log entry {r.entry_id} acknowledged on {r.received_at[:10]} "
                            f"(signature checked against the partner's registered certificate).")
        self.refresh()
        self.select(r.entry_id)

    def recall(self) -> None:
        e = self.selected()
        if e is None:
            return
        try:
            covered = recall_service.affected(self.ctx.session, e.id)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        who = ", ".join(sorted({x.partner_name for xs in covered.values() for x in xs}))
        reason = self.ctx.ask_text(self, "Recall", f"Recall log entry {e.id} ({e.what}) from {who}. Why? "
                                                   "(the reason goes into each notice and the log)")
        if not reason:
            return
        folder = self.choose_folder(self)
        if not folder:
            return
        passphrase = self.ctx.ask_passphrase(self, "Your passphrase signs the recall notices")
        if passphrase is None:
            return
        session, entry_id, media = self.ctx.session, e.id, self.media.currentText()
        # The passphrase derivation, signing and sealing run off the GUI thread.
        self.ctx.jobs.run(lambda _p, _c: recall_service.recall(session, entry_id, reason, Path(folder), media,
                                                               passphrase),
                          lambda notices: self._recalled(notices, folder), lambda exc: self.ctx.show_error(self, exc),
                          label="Writing the recall notices…", parent=self, cancellable=False)

    def _recalled(self, notices: list[RecallNotice], folder: str) -> None:
        unsealed = [n.partner for n in notices if not n.sealed]
        self.status.setText(
            f"Recall notices written to {folder} for {', '.join(n.partner for n in notices)} and recorded in the log."
            + (f" NOT sealed (no encryption certificate registered): {', '.join(unsealed)}." if unsealed else
               " Each is sealed to the partner's encryption certificate."))
        self.refresh()

    def print_log(self) -> PrintablePreview | None:
        try:
            filters = self.filters()
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return None
        self.preview = open_preview(self.ctx, self, lambda: dissemination.printable(self.ctx.session, filters))
        return self.preview


def overdue_receipts_panel(ctx: UiContext) -> QWidget | None:
    """Dashboard card (DASHBOARD_PANELS): entries whose receipt is overdue, oldest first."""
    if not ctx.can(Permission.VIEW_CONTENT) or ctx.session.locked:
        return None
    try:
        late = dissemination.overdue(ctx.session)
    except FrontierError:
        return None
    if not late:
        return None
    today = ctx.today()
    late.sort(key=lambda e: e.created_at)
    card = QFrame()
    card.setObjectName("overdueReceipts")
    card.setStyleSheet(theme.OVERDUE_CARD)
    lay = QVBoxLayout(card)
    head = QLabel(f"{len(late)} acknowledgment{'s' if len(late) != 1 else ''} overdue "
                  f"(no receipt after {ctx.session.settings.receipt_overdue_days} days)")
    head.setStyleSheet(theme.coloured(OVERDUE_COLOUR, 700))
    lay.addWidget(head)
    for e in late[:5]:
        days = e.unacknowledged_days(today)
        line = QLabel(f"{e.marking.portion()} No. {e.id}: {e.kind.label.lower()} {e.what} to {e.partner_name}, sent "
                      f"{e.created_at[:10]}, waiting {days} days")
        line.setTextFormat(Qt.TextFormat.PlainText)
        lay.addWidget(line)
    if len(late) > 5:
        lay.addWidget(QLabel(f"… and {len(late) - 5} more: see the Dissemination log."))
    return card
