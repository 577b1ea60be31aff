"""Dashboard queues: "My work" (submissions a lead assigned to me) and, for leads, "Awaiting my
decision" (where a lead's approval, return or countersignature is open to me now). Registered as
dashboard panels; each shows the next step and who takes it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHeaderView,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.accounts import Permission
from app.model.errors import FrontierError
from app.services import assignments
from app.services.assignments import QueueRow
from ui.context import UiContext
from ui.widgets import column_fit
from ui.widgets.sortable_table import SortableTable

COLUMNS = ("Submission", "Stage", "Release", "Mine", "Next step")


class QueuePanel(QGroupBox):
    def __init__(self, ctx: UiContext, title: str, rows: list[QueueRow], name: str) -> None:
        super().__init__(f"{title} ({len(rows)})")
        self.setObjectName(name)
        self.ctx = ctx
        self.rows = rows
        self.table = SortableTable(len(rows), len(COLUMNS))
        self.table.setObjectName(f"{name}Table")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        for r, row in enumerate(rows):
            sub = row.submission
            who = f" ({row.who})" if row.who else ""
            for c, text in enumerate((f"{sub.marking.portion()} {sub.display_name}", row.stage.label,
                                      sub.planned_release.isoformat(), row.detail, row.next_step + who)):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, sub.id)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        column_fit.install(self.table, (COLUMNS.index("Submission"), COLUMNS.index("Mine")), floor=140)
        column_fit.refit(self.table)
        self.table.setMaximumHeight(34 + 26 * min(len(rows), 4))
        self.table.activated.connect(self._open)  # double-click or Enter
        QVBoxLayout(self).addWidget(self.table)

    def _open(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.rows) and self.rows[row].submission.id is not None:
            self.ctx.events.open_submission.emit(self.rows[row].submission.id)


def my_work_panel(ctx: UiContext) -> QWidget | None:
    try:
        rows = assignments.my_work(ctx.session)
    except FrontierError:
        return None
    return QueuePanel(ctx, "My work", rows, "myWork") if rows else None


def awaiting_decision_panel(ctx: UiContext) -> QWidget | None:
    if not ctx.can(Permission.APPROVE):
        return None
    try:
        rows = assignments.awaiting_decision(ctx.session)
    except FrontierError:
        return None
    return QueuePanel(ctx, "Awaiting my decision", rows, "awaitingDecision")
