"""Audit trail (auditors and administrators): events newest first, paged, filtered by actor and
action; "Verify chain" checks every event's hash link and names the first broken event."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.audit import AuditEvent, ChainVerification
from app.model.errors import FrontierError
from app.services import audit, users
from ui import readable, theme
from ui.context import UiContext
from ui.errors import sanitize
from ui.widgets import column_fit
from ui.widgets.sortable_table import SortableTable

PAGE_SIZE = 200
COLUMNS = ("#", "Time (UTC)", "Actor", "Action", "Object", "Details")


def details_text(details: dict[str, object]) -> str:
    """Readable fields, not raw JSON (ui/readable.py)."""
    return readable.details_text(details)


class AuditScreen(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.offset = 0
        self.events: list[AuditEvent] = []
        self.has_next = False
        self.last_result: ChainVerification | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        top = QHBoxLayout()
        title = QLabel("Audit trail")
        title.setObjectName("pageTitle")
        top.addWidget(title)
        top.addStretch(1)
        self.verify_button = QPushButton("Verify chain")
        self.verify_button.setObjectName("primary")
        self.verify_button.clicked.connect(self.verify)
        top.addWidget(self.verify_button)
        layout.addLayout(top)
        self.result = QLabel("The chain has not been verified in this session.")
        self.result.setObjectName("verifyResult")
        self.result.setWordWrap(True)
        self.result.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.result)

        filters = QHBoxLayout()
        self.actor = QComboBox()
        self.actor.setObjectName("actorFilter")
        self.action = QLineEdit()
        self.action.setObjectName("actionFilter")
        self.action.setPlaceholderText("Action starts with… (e.g. auth., submission., artifact.)")
        self.action.setClearButtonEnabled(True)
        apply = QPushButton("Apply")
        apply.clicked.connect(self.apply_filter)
        self.action.returnPressed.connect(self.apply_filter)
        self.actor.currentIndexChanged.connect(lambda _i: self.apply_filter())
        filters.addWidget(QLabel("Actor"))
        filters.addWidget(self.actor)
        filters.addWidget(self.action, 1)
        filters.addWidget(apply)
        layout.addLayout(filters)

        self.table = SortableTable(0, len(COLUMNS))
        self.table.setObjectName("auditTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        # an auditor reads the action names whole: the object gives way (Details takes what is left)
        column_fit.install(self.table, (COLUMNS.index("Object"),))
        self.table.activated.connect(lambda _i: self.show_details())  # double-click or Enter
        layout.addWidget(self.table, 1)

        pager = QHBoxLayout()
        self.page_label = QLabel("")
        self.page_label.setObjectName("hint")
        self.prev_button = QPushButton("◀ Newer")
        self.next_button = QPushButton("Older ▶")
        self.prev_button.clicked.connect(self.newer)
        self.next_button.clicked.connect(self.older)
        pager.addWidget(self.page_label, 1)
        pager.addWidget(self.prev_button)
        pager.addWidget(self.next_button)
        layout.addLayout(pager)
        self._load_actors()
        self.load()

    def _load_actors(self) -> None:
        self.actor.blockSignals(True)
        self.actor.clear()
        self.actor.addItem("Everyone", None)
        try:
            for account in users.list_users(self.ctx.session):
                self.actor.addItem(f"{account.username} ({account.display_name})", account.username)
        except FrontierError:
            pass  # the list is a convenience; filtering still works for "Everyone"
        self.actor.blockSignals(False)

    def refresh(self) -> None:
        if not self.ctx.session.locked:
            self.load()

    @Slot()
    def apply_filter(self) -> None:
        self.offset = 0
        self.load()

    def load(self) -> None:
        rows = audit.events(self.ctx.session, PAGE_SIZE + 1, self.offset, actor=self.actor.currentData(),
                            action_prefix=self.action.text().strip() or None)
        self.has_next = len(rows) > PAGE_SIZE
        self.events = rows[:PAGE_SIZE]
        mono = QFont("DejaVu Sans Mono")
        self.table.setRowCount(len(self.events))
        bad = self.last_result.first_bad_seq if self.last_result and not self.last_result.ok else None
        for r, ev in enumerate(self.events):
            obj = f"{ev.object_type} {ev.object_id}".strip() if ev.object_id not in (None, "", "None") \
                else ev.object_type
            values = (str(ev.seq), ev.ts[:19].replace("T", " "), ev.actor, ev.action, obj, details_text(ev.details))
            for c, v in enumerate(values):
                item = QTableWidgetItem(v)
                if c == 0:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c == 5:
                    item.setFont(mono)
                    item.setToolTip(v)
                if bad is not None and ev.seq == bad:
                    item.setBackground(Qt.GlobalColor.yellow)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        # a long object (a media path) elides, whole on hover: the details keep their room
        self.table.setColumnWidth(4, min(self.table.columnWidth(4), 300))
        column_fit.refit(self.table)
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        total = audit.count(self.ctx.session)
        first = self.offset + 1 if self.events else 0
        self.page_label.setText(f"Showing {first:,}–{self.offset + len(self.events):,} (newest first) · "
                                f"{total:,} events in the trail")
        self.prev_button.setEnabled(self.offset > 0)
        self.next_button.setEnabled(self.has_next)

    @Slot()
    def older(self) -> None:
        if self.has_next:
            self.offset += PAGE_SIZE
            self.load()

    @Slot()
    def newer(self) -> None:
        self.offset = max(0, self.offset - PAGE_SIZE)
        self.load()

    def show_details(self) -> QDialog | None:
        """The selected event in full (details, hashes), read-only."""
        row = self.table.currentRow()
        if not 0 <= row < len(self.events):
            return None
        ev = self.events[row]
        dlg = QDialog(self)
        dlg.setWindowTitle(f"Audit event #{ev.seq}")
        dlg.resize(720, 460)
        lay = QVBoxLayout(dlg)
        text = QPlainTextEdit()
        text.setReadOnly(True)
        text.setFont(QFont("DejaVu Sans Mono"))
        body = "\n".join(readable.details_lines(ev.details)) or "(no details)"
        text.setPlainText(sanitize(
            f"#{ev.seq}  {ev.ts} UTC  ({readable.local_time(ev.ts)})\nactor:  {ev.actor}\naction: {ev.action}\n"
            f"object: {ev.object_type} {ev.object_id}\n\n{body}\n\nprevious hash: {ev.prev_hash}\n"
            f"hash:          {ev.hash}", 200_000))
        lay.addWidget(text)
        dlg.show()
        return dlg

    @Slot()
    def verify(self) -> None:
        session = self.ctx.session
        self.verify_button.setEnabled(False)
        self.result.setText("Verifying…")

        def work(_p: object, _c: object) -> ChainVerification:
            return audit.verify(session)

        self.ctx.jobs.run(work, self._verified, self._verify_failed, label="Verifying the audit chain",
                          parent=self, cancellable=False)

    def _verified(self, result: ChainVerification) -> None:
        self.verify_button.setEnabled(True)
        self.last_result = result
        if result.ok:
            self.result.setText(result.summary())
            self.result.setStyleSheet(theme.OK_STRONG)
        else:
            where = f" First broken event: #{result.first_bad_seq}." if result.first_bad_seq else ""
            extra = f" ({len(result.problems)} problems found.)" if len(result.problems) > 1 else ""
            self.result.setText(result.summary() + where + extra)
            self.result.setStyleSheet(theme.ERROR_STRONG)
        self.load()

    def _verify_failed(self, exc: BaseException) -> None:
        self.verify_button.setEnabled(True)
        self.result.setText("Verification could not run.")
        self.ctx.show_error(self, exc)
