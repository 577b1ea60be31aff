"""History of one submission from the audit trail (AU-3 on the record): who changed, attached,
opened or exported what, and when. Readable by anyone who may view the record."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.audit import AuditEvent
from app.services import audit
from ui.context import UiContext
from ui.readable import details_text, local_time
from ui.widgets.sortable_table import SortableTable

COLUMNS = ("Time (local)", "Who", "Action", "Details")


class HistoryTab(QWidget):
    def __init__(self, ctx: UiContext, submission_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.submission_id = submission_id
        self.events: list[AuditEvent] = []
        layout = QVBoxLayout(self)
        self.table = SortableTable(0, len(COLUMNS))
        self.table.setObjectName("historyTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        layout.addWidget(self.table, 1)
        hint = QLabel("From the hash-chained audit trail; newest first.")
        hint.setObjectName("hint")
        layout.addWidget(hint)
        ctx.events.submission_changed.connect(self._changed)
        self.refresh()

    def _changed(self, submission_id: int) -> None:
        if submission_id == self.submission_id and self.isVisible():
            self.refresh()

    def refresh(self) -> None:
        if self.ctx.session.locked:
            return
        self.events = audit.object_history(self.ctx.session, "submission", self.submission_id)
        self.table.setRowCount(len(self.events))
        for r, ev in enumerate(self.events):
            for c, v in enumerate((local_time(ev.ts), ev.actor, ev.action, details_text(ev.details))):
                item = QTableWidgetItem(v)
                item.setToolTip(v)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
