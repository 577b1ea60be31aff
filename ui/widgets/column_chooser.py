"""Columns of a wide table chosen from its header's context menu.

A register with a dozen columns does not fit a 1280-pixel screen: its less-used columns start hidden
and a right-click on the header (or the header's tooltip, which says so) brings every column back,
one checkable entry each. The last visible column cannot be hidden.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMenu, QTableView

from ui.widgets import column_fit

HINT = "Right-click a column header to show or hide columns"


def install(view: QTableView, hidden: Iterable[int] = ()) -> None:
    """Hide `hidden` (column numbers) and let the header's context menu show or hide any column."""
    header = view.horizontalHeader()
    for column in hidden:
        header.setSectionHidden(column, True)
    header.setToolTip(HINT)
    header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    header.customContextMenuRequested.connect(lambda pos: menu(view).exec(header.mapToGlobal(QPoint(pos))))


def menu(view: QTableView) -> QMenu:
    """One checkable entry per column, named by its header text; toggling one shows or hides it."""
    header = view.horizontalHeader()
    model = view.model()
    chooser = QMenu(view)
    chooser.setObjectName("columnChooser")
    chooser.setTitle("Columns")
    visible = [c for c in range(header.count()) if not header.isSectionHidden(c)]
    for column in range(header.count()):
        name = str(model.headerData(column, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole) or column)
        action = chooser.addAction(name)
        action.setCheckable(True)
        action.setChecked(not header.isSectionHidden(column))
        action.setEnabled(not (visible == [column]))  # something always stays on screen
        action.toggled.connect(lambda on, c=column: _show(view, c, on))
    return chooser


def _show(view: QTableView, column: int, on: bool) -> None:
    header = view.horizontalHeader()
    header.setSectionHidden(column, not on)
    if on and header.sectionSize(column) < header.minimumSectionSize() * 2:
        header.resizeSection(column, header.defaultSectionSize())  # a column hidden at width 0 comes back usable
    column_fit.fit(view)  # where the text columns give way, they make room for it (or take back its room)
