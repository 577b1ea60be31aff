"""The further affected products of a vulnerability in its editor: one row per product (vendor,
product, CPE or purl), edited as plain text, with Add / Remove buttons. The first affected product
keeps its own fields above the list. `products()` turns the rows into model objects; the model
validates them (app.model.vulnerabilities.AffectedProduct) and names the row that is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.vulnerabilities import AffectedProduct

COLUMNS = ("Vendor", "Product", "CPE or purl")


class ProductList(QWidget):
    changed = Signal()

    def __init__(self, products: Sequence[AffectedProduct], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("moreProducts")
        self.table.setAccessibleName("Further affected products")
        self.table.setAccessibleDescription("Products the vulnerability also affects, after the first one: "
                                            "vendor, product and a CPE or package URL")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(0, 170)
        self.table.setColumnWidth(1, 200)
        header = self.table.horizontalHeaderItem(2)
        if header is not None:
            header.setToolTip("cpe:2.3:a:vendor:product:version:*:*:*:*:*:*:*  or  pkg:type/name@version")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setMinimumHeight(90)
        self.table.itemChanged.connect(lambda *_: self.changed.emit())
        self.add_button = QPushButton("Add product")
        self.add_button.setObjectName("moreProductsAdd")
        self.add_button.setAccessibleName("Add an affected product")
        self.remove_button = QPushButton("Remove product")
        self.remove_button.setObjectName("moreProductsRemove")
        self.remove_button.setAccessibleName("Remove the selected affected products")
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
        for p in products:
            self.add_row(p)

    def add_row(self, product: AffectedProduct | None = None) -> int:
        """A row (empty, or holding `product`); the new row's vendor cell is made current for typing."""
        row = self.table.rowCount()
        self.table.insertRow(row)
        p = product or AffectedProduct()
        for col, text in enumerate((p.vendor, p.product, p.product_id)):
            self.table.setItem(row, col, QTableWidgetItem(text))
        if product is None:
            self.table.setCurrentCell(row, 0)
        self.changed.emit()
        return row

    def remove_selected(self) -> None:
        for row in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(row)
        self.changed.emit()

    def text(self, row: int, col: int) -> str:
        item = self.table.item(row, col)
        return item.text() if item is not None else ""

    def state_value(self) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(self.text(r, c) for c in range(len(COLUMNS))) for r in range(self.table.rowCount()))

    def products(self) -> tuple[AffectedProduct, ...]:
        """The rows as products; a row left wholly empty is no product."""
        return tuple(AffectedProduct(*row) for row in self.state_value() if any(x.strip() for x in row))
