"""The further affected products of a vulnerability in its editor: one row per product (vendor,
product, CPE or purl), edited as plain text, with Add / Remove buttons. The first affected product
keeps its own fields above the list. `products()` turns the rows into model objects; the model
validates them (app.model.vulnerabilities.AffectedProduct) and names the row that is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QTableWidgetItem, QWidget

from app.model.vulnerabilities import AffectedProduct
from ui.widgets.entry_table import RowTable

COLUMNS = ("Vendor", "Product", "CPE or purl")


class ProductList(RowTable):
    columns = COLUMNS
    noun = "product"
    stretch = 2
    widths = (170, 200)
    tips = ("", "", "cpe:2.3:a:vendor:product:version:*:*:*:*:*:*:*  or  pkg:type/name@version")
    min_height = 90

    def __init__(self, products: Sequence[AffectedProduct], parent: QWidget | None = None) -> None:
        super().__init__("moreProducts", parent)
        self.table.setAccessibleName("Further affected products")
        self.table.setAccessibleDescription("Products the vulnerability also affects, after the first one: "
                                            "vendor, product and a CPE or package URL")
        self.add_button.setAccessibleName("Add an affected product")
        self.remove_button.setAccessibleName("Remove the selected affected products")
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

    def state_value(self) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(self.text(r, c) for c in range(len(COLUMNS))) for r in range(self.table.rowCount()))

    def products(self) -> tuple[AffectedProduct, ...]:
        """The rows as products; a row left wholly empty is no product."""
        return tuple(AffectedProduct(*row) for row in self.state_value() if any(row))
