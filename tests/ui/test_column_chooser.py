"""The header's column menu: hidden columns come back, and the last visible one cannot go."""

from __future__ import annotations

from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QTableView

from ui.widgets import column_chooser


def _view(qtbot, columns: int = 4) -> QTableView:  # type: ignore[no-untyped-def]
    model = QStandardItemModel(3, columns)
    model.setHorizontalHeaderLabels([f"C{n}" for n in range(columns)])
    view = QTableView()
    view.setModel(model)
    qtbot.addWidget(view)
    return view


def test_hidden_columns_come_back_from_the_header_menu(qtbot) -> None:  # type: ignore[no-untyped-def]
    view = _view(qtbot)
    column_chooser.install(view, [2, 3])
    header = view.horizontalHeader()
    assert [header.isSectionHidden(c) for c in range(4)] == [False, False, True, True]
    assert header.toolTip() == column_chooser.HINT
    menu = column_chooser.menu(view)
    actions = menu.actions()
    assert [a.text() for a in actions] == ["C0", "C1", "C2", "C3"]
    assert [a.isChecked() for a in actions] == [True, True, False, False]
    actions[3].setChecked(True)
    assert not header.isSectionHidden(3) and header.sectionSize(3) >= header.minimumSectionSize()
    actions[0].setChecked(False)
    assert header.isSectionHidden(0)


def test_the_last_visible_column_cannot_be_hidden(qtbot) -> None:  # type: ignore[no-untyped-def]
    view = _view(qtbot, 2)
    column_chooser.install(view, [1])
    actions = column_chooser.menu(view).actions()
    assert not actions[0].isEnabled() and actions[1].isEnabled()
