"""QTableWidget whose rows a reviewer can sort (header click) and filter (a text box), while the
screen keeps addressing rows in the order it filled them.

Sorting is switched off while a screen fills the table (Qt moves a row as soon as its sort column
is set, scattering the rest of the row) and on again when control returns to the event loop, in the
order the reviewer last chose (none until a header is clicked: the screen's own order stays).
`currentRow()` and `source_row(view_row)` answer in the screen's fill order, so code such as
`self.items[self.table.currentRow()]` stays right after any sort.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QLayout,
    QLineEdit,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

SOURCE_ROLE = Qt.ItemDataRole.UserRole + 77


class SortableTable(QTableWidget):
    def __init__(self, rows: int = 0, columns: int = 0, parent: QWidget | None = None) -> None:
        super().__init__(rows, columns, parent)
        self.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.horizontalHeader().setSortIndicatorShown(True)
        self.setSortingEnabled(True)
        self._filter: QLineEdit | None = None
        self._resume_pending = False

    # -- filling ------------------------------------------------------------------------------
    def _pause(self) -> None:
        if self.isSortingEnabled():
            self.setSortingEnabled(False)
        if not self._resume_pending:
            self._resume_pending = True
            QTimer.singleShot(0, self, self.resume_sorting)

    @Slot()
    def resume_sorting(self) -> None:
        """Sort again in the reviewer's chosen order and re-apply the filter (after a fill)."""
        self._resume_pending = False
        self.setSortingEnabled(True)
        self.apply_filter()

    def setRowCount(self, rows: int) -> None:
        self._pause()
        super().setRowCount(rows)

    def insertRow(self, row: int) -> None:
        self._pause()
        super().insertRow(row)

    def setItem(self, row: int, column: int, item: QTableWidgetItem) -> None:
        if self.isSortingEnabled():  # a single late update: no fill in progress, keep rows together
            self._pause()
        item.setData(SOURCE_ROLE, row)
        super().setItem(row, column, item)

    # -- rows in the screen's order -------------------------------------------------------------
    def source_row(self, view_row: int) -> int:
        if view_row < 0:
            return view_row
        for column in range(self.columnCount()):
            item = self.item(view_row, column)
            if item is not None and item.data(SOURCE_ROLE) is not None:
                return int(item.data(SOURCE_ROLE))
        return view_row

    def currentRow(self) -> int:
        return self.source_row(super().currentRow())

    def view_row(self, source_row: int) -> int:
        for r in range(self.rowCount()):
            if self.source_row(r) == source_row:
                return r
        return -1

    # -- filtering -------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._filter is None and self.property("filterable") is not False:
            self.filter_box()
            # Not inside the show: moving widgets while Qt is showing them is unsafe.
            QTimer.singleShot(0, self, self.install_filter)

    def install_filter(self) -> QLineEdit | None:
        """Put the filter box just above the table, wherever the screen placed it (a box layout or
        a splitter). Screens with their own search box set the property filterable=False."""
        box = self.filter_box()
        if box.parentWidget() is not None:
            return box  # already placed
        parent = self.parentWidget()
        if isinstance(parent, QSplitter):
            index = parent.indexOf(self)
            holder = QWidget()
            column = QVBoxLayout(holder)
            column.setContentsMargins(0, 0, 0, 0)
            parent.insertWidget(index, holder)
            column.addWidget(box)
            column.addWidget(self, 1)
            return box
        found = _box_holding(parent.layout(), self) if parent is not None and parent.layout() else None
        if found is None:
            return None
        layout, index = found
        layout.insertWidget(index, box)
        return box

    def filter_box(self, placeholder: str = "Filter rows…") -> QLineEdit:
        """A text box that shows only the rows containing its text (any column, any case)."""
        if self._filter is None:
            box = QLineEdit()
            box.setPlaceholderText(placeholder)
            box.setClearButtonEnabled(True)
            box.setAccessibleName(f"Filter: {self.accessibleName() or 'table rows'}")
            box.textChanged.connect(self.apply_filter)
            self._filter = box
        return self._filter

    @Slot()
    def apply_filter(self) -> int:
        """Hide the rows not matching; returns how many stay visible."""
        needle = self._filter.text().strip().casefold() if self._filter is not None else ""
        shown = 0
        for r in range(self.rowCount()):
            cells = (self.item(r, c) for c in range(self.columnCount()))
            match = not needle or any(needle in i.text().casefold() for i in cells if i is not None)
            self.setRowHidden(r, not match)
            shown += match
        return shown


def _box_holding(layout: QLayout | None, widget: QWidget) -> tuple[QBoxLayout, int] | None:
    if layout is None:
        return None
    for i in range(layout.count()):
        item = layout.itemAt(i)
        if item is None:
            continue
        if item.widget() is widget and isinstance(layout, QBoxLayout):
            return layout, i
        child = item.layout()
        if child is not None:
            found = _box_holding(child, widget)
            if found is not None:
                return found
    return None
