"""The vertical header of a table whose rows are numbered and all sized alike (a paged model with
ROW_NUMBERS answers one size hint, that of the widest row number, for every section)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QHeaderView, QWidget


class RowNumbersHeader(QHeaderView):
    """Qt's own sizeHint() asks the model for the size of the first and the last 100 sections, again
    each time the hint is invalidated while a page is built and shown (about 1,200 calls into
    Python before the first paint); every section has the same size, so one call answers it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self.setSectionsClickable(True)  # as the header QTableView makes for itself
        self.setHighlightSections(True)

    def sizeHint(self) -> QSize:
        model = self.model()
        if model is None or self.count() == 0:
            return super().sizeHint()
        hint = model.headerData(0, Qt.Orientation.Vertical, Qt.ItemDataRole.SizeHintRole)
        return hint if isinstance(hint, QSize) else super().sizeHint()
