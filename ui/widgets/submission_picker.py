"""Pick a submission from a searchable, sortable list (name, developer, stage, marking) instead of
typing its internal id. The stage is the one computed from the work (app.services.workflow)."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.errors import FrontierError
from app.model.submissions import Submission
from app.services import submissions, workflow
from ui.context import UiContext
from ui.widgets.sortable_table import SortableTable
from ui.widgets.transcript_view import clean_text

COLUMNS = ("ID", "Model", "Developer", "Stage", "Marking")
LIMIT = 500  # a list to pick from; the search narrows it
SEARCH_DELAY_MS = 200
ID_ROLE = Qt.ItemDataRole.UserRole


class SubmissionPicker(QWidget):
    picked = Signal(object)  # the chosen submission id, or None when nothing is chosen

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.rows: list[Submission] = []
        self.search = QLineEdit()
        self.search.setObjectName("submissionSearch")
        self.search.setPlaceholderText("Search developer, model, version or ID")
        self.search.setAccessibleName("Search submissions")
        self.search.setClearButtonEnabled(True)
        self.table = SortableTable(0, len(COLUMNS))
        self.table.setObjectName("submissionPicker")
        self.table.setAccessibleName("Submissions to pick from")
        self.table.setProperty("filterable", False)  # the search box above filters in the database
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # the model name takes the rest
        self.table.setMinimumHeight(90)
        self.table.setWordWrap(False)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.count = QLabel("")
        self.count.setObjectName("hint")
        self.count.setTextFormat(Qt.TextFormat.PlainText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.reload)
        self.search.textChanged.connect(lambda _t: self._timer.start())
        self.reload()

    @Slot()
    def reload(self) -> None:
        """Fetch the submissions matching the search (newest release first), keeping the choice."""
        self._timer.stop()
        keep = self.selected_id()
        text = self.search.text().strip()
        try:
            total = submissions.count(self.ctx.session, text)
            self.rows = submissions.page(self.ctx.session, 0, LIMIT, sort="release", descending=True, search=text)
            stages = workflow.stages(self.ctx.session, [int(s.id or 0) for s in self.rows])
        except FrontierError as exc:
            self.count.setText(f"Submissions could not be listed: {exc}")
            return
        self.table.blockSignals(True)
        self.table.clearSelection()
        self.table.setRowCount(len(self.rows))
        for row, s in enumerate(self.rows):
            sid = int(s.id or 0)
            stage = stages.get(sid)
            values = (str(sid), f"{s.model_name} {s.version}", s.developer, stage.label if stage else "—",
                      s.marking.banner())
            for col, value in enumerate(values):
                item = QTableWidgetItem(clean_text(value, 200))
                item.setData(ID_ROLE, sid)
                if col == 0:
                    item.setData(Qt.ItemDataRole.DisplayRole, sid)  # sorts as a number
                self.table.setItem(row, col, item)
        self.table.blockSignals(False)
        shown = len(self.rows)
        self.count.setText(f"{total:,} submission{'s' if total != 1 else ''}"
                           + (" match" if text else "")
                           + (f" · first {shown:,} shown: refine the search" if total > shown else ""))
        if keep is not None and not self.select_id(keep):
            self.picked.emit(None)  # the choice left the list (search): nothing is chosen now

    def selected_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return int(item.data(ID_ROLE)) if item is not None else None

    def select_id(self, submission_id: int) -> bool:
        for r in range(self.table.rowCount()):
            item = self.table.item(r, 0)
            if item is not None and item.data(ID_ROLE) == submission_id:
                self.table.selectRow(r)
                return True
        return False

    def clear(self) -> None:
        self.table.clearSelection()

    def name_of(self, submission_id: int) -> str | None:
        return next((s.display_name for s in self.rows if s.id == submission_id), None)

    @Slot()
    def _selection_changed(self) -> None:
        self.picked.emit(self.selected_id())
