"""Editable lists of CSAF entries in the vulnerability editor: remediations and notes.

One row per entry; a category picker in the first column, free text in the others (shown and
edited as plain text). Add / Remove buttons below. `entries()` turns the rows into model objects;
a bad row raises ValidationError naming the row and the problem.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import date

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.errors import ValidationError
from app.model.vulnerabilities import Note, NoteCategory, Remediation, RemediationCategory


class RowTable(QWidget):
    """A table of text rows with Add / Remove buttons below; subclasses name the columns and map rows
    to model objects."""

    changed = Signal()
    columns: tuple[str, ...]  # the text columns' headers
    noun = "entry"
    stretch = 0  # the column that takes the free width
    tips: tuple[str, ...] = ()  # header tooltips, by text column
    widths: tuple[int, ...] = ()  # by table column
    min_height = 110
    lead: tuple[str, ...] = ()  # headers of columns before the text ones (a category picker)

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, len(self.lead) + len(self.columns))
        self.table.setObjectName(object_name)
        self.table.setAccessibleName(f"{self.noun.capitalize()} list")
        self.table.setHorizontalHeaderLabels([*self.lead, *self.columns])
        self.table.horizontalHeader().setSectionResizeMode(self.stretch, QHeaderView.ResizeMode.Stretch)
        for col, width in enumerate(self.widths):
            if width:
                self.table.setColumnWidth(col, width)
        for col, tip in enumerate(self.tips, len(self.lead)):
            header = self.table.horizontalHeaderItem(col)
            if tip and header is not None:
                header.setToolTip(tip)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setMinimumHeight(self.min_height)
        self.table.itemChanged.connect(lambda *_: self.changed.emit())
        self.add_button = QPushButton(f"Add {self.noun}")
        self.add_button.setObjectName(f"{object_name}Add")
        self.remove_button = QPushButton(f"Remove {self.noun}")
        self.remove_button.setObjectName(f"{object_name}Remove")
        self.add_button.clicked.connect(lambda: self.add_row())
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)

    def add_row(self) -> int:
        raise NotImplementedError

    def remove_selected(self) -> None:
        for row in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(row)
        self.changed.emit()

    def text(self, row: int, col: int) -> str:
        item = self.table.item(row, col)
        return item.text().strip() if item is not None else ""


class EntryTable(RowTable):
    """A category column plus text columns; subclasses map rows to entries."""

    categories: type[enum.StrEnum]
    stretch = 1
    lead = ("Category",)

    def __init__(self, rows: Sequence[tuple[str, ...]], object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(object_name, parent)
        for row in rows:
            self.add_row(row)

    def add_row(self, values: tuple[str, ...] = ()) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        combo = QComboBox()
        combo.setAccessibleName(f"{self.noun.capitalize()} {row + 1} category")
        for c in self.categories:
            combo.addItem(c.value, c.value)
        combo.setCurrentIndex(max(0, combo.findData(values[0] if values else "")))
        combo.currentIndexChanged.connect(lambda *_: self.changed.emit())
        self.table.setCellWidget(row, 0, combo)
        for col in range(1, self.table.columnCount()):
            text = values[col] if col < len(values) else ""
            self.table.setItem(row, col, QTableWidgetItem(text))
        self.changed.emit()
        return row

    def category(self, row: int) -> str:
        combo = self.table.cellWidget(row, 0)
        return str(combo.currentData()) if isinstance(combo, QComboBox) else ""

    def state_value(self) -> tuple[tuple[str, ...], ...]:
        return tuple((self.category(r), *(self.text(r, c) for c in range(1, self.table.columnCount())))
                     for r in range(self.table.rowCount()))


class RemediationList(EntryTable):
    categories = RemediationCategory
    columns = ("Details", "Products", "Date", "URL")
    tips = ("", "CPE, purl or name, comma-separated; empty means every affected product",
            "YYYY-MM-DD", "Where the fix or advice is published")
    widths = (150, 0, 180, 95, 160)
    noun = "remediation"

    def __init__(self, entries: Sequence[Remediation], parent: QWidget | None = None) -> None:
        super().__init__([(r.category.value, r.details, ", ".join(r.product_ids),
                           r.issued.isoformat() if r.issued else "", r.url) for r in entries],
                         "remediations", parent)

    def entries(self) -> tuple[Remediation, ...]:
        out = []
        for row in range(self.table.rowCount()):
            day = self.text(row, 3)
            try:
                issued = date.fromisoformat(day) if day else None
            except ValueError:
                raise ValidationError(f"remediation {row + 1}", f"date '{day}' is not YYYY-MM-DD") from None
            products = tuple(p.strip() for p in self.text(row, 2).split(",") if p.strip())
            out.append(Remediation(RemediationCategory(self.category(row)), self.text(row, 1), products, issued,
                                   self.text(row, 4)))
        return tuple(out)


class NoteList(EntryTable):
    categories = NoteCategory
    columns = ("Title", "Text")
    noun = "note"
    stretch = 2
    widths = (150, 180, 0)

    def __init__(self, entries: Sequence[Note], parent: QWidget | None = None) -> None:
        super().__init__([(n.category.value, n.title, n.text) for n in entries], "notes", parent)

    def entries(self) -> tuple[Note, ...]:
        return tuple(Note(NoteCategory(self.category(r)), self.text(r, 1), self.text(r, 2))
                     for r in range(self.table.rowCount()))
