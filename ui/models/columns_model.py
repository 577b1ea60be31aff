"""A table model driven by column specs: header, display value, sort key, alignment, tooltip and
colours, each a function of the row object. Screens declare their columns once instead of
repeating rowCount/columnCount/headerData and a branch per column in data().

ColumnsTableModel holds its rows in memory and sorts them in Python (or through a proxy, by
SORT_ROLE); ui/models/paged_model.py pages the same columns from a service that sorts in SQL."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

Index = QModelIndex | QPersistentModelIndex
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


Colour = QColor | QBrush


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], str]
    sort_key: Callable[[Any], Any] | None = None  # in memory; default: the shown text, case-insensitive
    alignment: Qt.AlignmentFlag | None = LEFT  # None: the view's default
    tooltip: Callable[[Any], str | None] | None = None
    background: Callable[[Any], Colour | None] | None = None
    foreground: Callable[[Any], Colour | None] | None = None
    sort_by: str = ""  # paged: the service's sort key for this column; "" = the service cannot sort by it
    key: str = ""  # a name for the column that screens look it up by (widths, sort indicator)


class ColumnsHeader(QAbstractTableModel):
    """What every columns-driven model shares: the column count and the horizontal headers."""

    def __init__(self, columns: Sequence[Column]) -> None:
        super().__init__()
        self.columns = tuple(columns)

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(c.header for c in self.columns)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section].header if 0 <= section < len(self.columns) else None
        return None


class ColumnsTableModel(ColumnsHeader):
    ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the row object itself
    SORT_ROLE = Qt.ItemDataRole.UserRole + 2  # numbers sort as numbers in a QSortFilterProxyModel

    def __init__(self, columns: Sequence[Column], rows: Sequence[Any] = ()) -> None:
        super().__init__(columns)
        self._rows: list[Any] = list(rows)

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> Any:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(self._rows)

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
            return int(col.alignment) if col.alignment is not None else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return col.tooltip(row) if col.tooltip is not None else None
        if role == Qt.ItemDataRole.BackgroundRole:
            return col.background(row) if col.background is not None else None
        if role == Qt.ItemDataRole.ForegroundRole:
            return col.foreground(row) if col.foreground is not None else None
        return None
