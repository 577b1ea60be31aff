"""A table model driven by column specs: header, display value, sort key, alignment, tooltip and
colours, each a function of the row object. Screens declare their columns once instead of
repeating rowCount/columnCount/headerData and a branch per column in data()."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

Index = QModelIndex | QPersistentModelIndex
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], str]
    sort_key: Callable[[Any], Any] | None = None  # default: the shown text, case-insensitive
    alignment: Qt.AlignmentFlag = LEFT
    tooltip: Callable[[Any], str | None] | None = None
    background: Callable[[Any], QColor | None] | None = None
    foreground: Callable[[Any], QColor | None] | None = None


class ColumnsTableModel(QAbstractTableModel):
    ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the row object itself
    SORT_ROLE = Qt.ItemDataRole.UserRole + 2  # numbers sort as numbers in a QSortFilterProxyModel

    def __init__(self, columns: Sequence[Column], rows: Sequence[Any] = ()) -> None:
        super().__init__()
        self.columns = tuple(columns)
        self._rows: list[Any] = list(rows)

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(c.header for c in self.columns)

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> Any:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section].header if 0 <= section < len(self.columns) else None
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.row_at(index.row())
        if row is None:
            return None
        col = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.value(row)
        if role == self.SORT_ROLE:
            return col.sort_key(row) if col.sort_key is not None else col.value(row).lower()
        if role == self.ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(col.alignment)
        if role == Qt.ItemDataRole.ToolTipRole:
            return col.tooltip(row) if col.tooltip is not None else None
        if role == Qt.ItemDataRole.BackgroundRole:
            return col.background(row) if col.background is not None else None
        if role == Qt.ItemDataRole.ForegroundRole:
            return col.foreground(row) if col.foreground is not None else None
        return None
