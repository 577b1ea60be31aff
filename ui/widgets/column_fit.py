"""A table whose columns fit its width: the text columns give way, nothing scrolls sideways.

Tables size their columns to their contents; on a 1280-pixel screen a long file name, title or
recipient then pushes the rest of the row out of sight behind a horizontal scroll bar. `install`
keeps the contents' widths where there is room and, where there is not, narrows the named flexible
columns, each in proportion to its width above its floor (`floor`, or its title). Their cells
elide, and hovering an elided cell shows its whole text. Fitted again after every refill (`refit`)
and on every resize of the view.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QFont, QFontMetrics, QHelpEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QToolTip

FLOOR = 90


class _Fit(QObject):
    def __init__(self, view: QTableView, flexible: Sequence[int], floor: int) -> None:
        super().__init__(view)
        self.view = view
        self.flexible = tuple(flexible)
        self.floor = floor
        self.natural: dict[int, int] = {}
        self.fitting = False

    def refit(self) -> None:
        """Take the columns' present widths as their natural ones (after sizing to contents), then fit."""
        header = self.view.horizontalHeader()
        self.natural = {c: header.sectionSize(c) for c in self.flexible}
        self.fit()

    def fit(self) -> None:
        if self.fitting or not self.natural:
            return
        self.fitting = True
        try:
            header = self.view.horizontalHeader()
            shown = [c for c in self.flexible if not header.isSectionHidden(c)]
            for c in shown:
                header.resizeSection(c, self.natural[c])
            over = header.length() - self.view.viewport().width()
            if over <= 0:
                return
            # each flexible column gives way in proportion to what it has above its floor
            spare = {c: max(0, self.natural[c] - self._floor(c)) for c in shown}
            total = sum(spare.values())
            for c in shown:
                if total:
                    header.resizeSection(c, self.natural[c] - min(spare[c], -(-over * spare[c] // total)))
        finally:
            self.fitting = False

    def _floor(self, column: int) -> int:
        """Never narrower than `floor`, nor than the column's own title."""
        return max(self.floor, title_width(self.view, column))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self.fit()
        elif event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            return self._elided_tip(event)
        return False

    def _elided_tip(self, event: QHelpEvent) -> bool:
        index = self.view.indexAt(event.pos())
        if not index.isValid() or index.data(Qt.ItemDataRole.ToolTipRole):
            return False  # the model's own tooltip wins
        text = index.data(Qt.ItemDataRole.DisplayRole)
        if not isinstance(text, str) or not text:
            return False
        # the width the cell asks for (as resizeColumnsToContents measures it) against the one it has
        if self.view.sizeHintForIndex(index).width() <= self.view.visualRect(index).width():
            return False
        QToolTip.showText(event.globalPos(), text, self.view)
        return True


def title_width(view: QTableView, column: int) -> int:
    """The width a column's title needs, measured bold as the theme draws headers, with its margins."""
    title = view.model().headerData(column, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
    font = QFont(view.horizontalHeader().font())
    font.setBold(True)
    return QFontMetrics(font).horizontalAdvance(str(title or "")) + 20


def titles_fit(view: QTableView) -> None:
    """Widen every column narrower than its own title (fixed widths chosen for one font, drawn in another)."""
    header = view.horizontalHeader()
    for column in range(header.count()):
        if header.sectionResizeMode(column) == QHeaderView.ResizeMode.Interactive:
            header.resizeSection(column, max(header.sectionSize(column), title_width(view, column)))


def install(view: QTableView, flexible: Sequence[int], floor: int = FLOOR) -> None:
    """Let `flexible` (column numbers) give way so the table fits its width; call `refit` after
    each `resizeColumnsToContents`."""
    fit = _Fit(view, flexible, floor)
    view.setProperty("_column_fit", fit)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    view.viewport().installEventFilter(fit)
    view.horizontalHeader().sectionCountChanged.connect(lambda _old, _new: fit.refit())


def fit(view: QTableView) -> None:
    """After a column was shown or hidden: the same natural widths, fitted again."""
    fitter = view.property("_column_fit")
    if isinstance(fitter, _Fit):
        fitter.fit()


def refit(view: QTableView) -> None:
    """After the contents changed and the columns were sized to them."""
    fit = view.property("_column_fit")
    if isinstance(fit, _Fit):
        fit.refit()
