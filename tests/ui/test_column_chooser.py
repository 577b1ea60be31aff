"""Wide tables on a 1280-px screen: the header's column menu (hidden columns come back, the last visible one
cannot go) and flexible columns that give way so nothing scrolls sideways."""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtGui import QHelpEvent, QStandardItemModel
from PySide6.QtWidgets import QApplication, QTableView, QToolTip

from ui.widgets import column_chooser, column_fit


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


def _wide_table(qtbot):  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QTableWidget, QTableWidgetItem

    table = QTableWidget(2, 4)
    qtbot.addWidget(table)
    texts = ["FRW-8FEFB5-2026-00004-V1", "Northwind AI Aurora 4.1-preview " * 3, "countersigned by the lead " * 2,
             "(S//NF)"]
    for r in range(2):
        for c, text in enumerate(texts):
            table.setItem(r, c, QTableWidgetItem(text))
    column_fit.install(table, (1, 2))
    table.resize(600, 200)
    table.show()
    qtbot.waitExposed(table)
    table.resizeColumnsToContents()
    column_fit.refit(table)
    return table


def test_flexible_columns_give_way_so_the_table_fits(qtbot) -> None:  # type: ignore[no-untyped-def]
    table = _wide_table(qtbot)
    header = table.horizontalHeader()
    assert header.length() <= table.viewport().width()
    assert header.sectionSize(0) == table.sizeHintForColumn(0) or header.sectionSize(0) >= 150  # kept whole
    assert header.sectionSize(1) < table.sizeHintForColumn(1)  # the widest flexible column gave way
    table.resize(2400, 200)  # room again: back to the contents' widths
    QApplication.processEvents()
    assert header.sectionSize(1) >= table.sizeHintForColumn(1) - 1
    table.resize(300, 200)  # never below the floor, even where that leaves a scroll bar
    QApplication.processEvents()
    assert min(header.sectionSize(1), header.sectionSize(2)) >= column_fit.FLOOR


def test_an_elided_cell_shows_its_whole_text_on_hover(qtbot) -> None:  # type: ignore[no-untyped-def]
    table = _wide_table(qtbot)
    rect = table.visualRect(table.model().index(0, 1))
    event = QHelpEvent(QEvent.Type.ToolTip, rect.center(), table.viewport().mapToGlobal(rect.center()))
    QApplication.sendEvent(table.viewport(), event)
    assert QToolTip.isVisible() and QToolTip.text() == table.item(0, 1).text()
    QToolTip.hideText()
    short = table.visualRect(table.model().index(0, 3))  # "(S//NF)" fits: the view's own handling
    QApplication.sendEvent(table.viewport(), QHelpEvent(QEvent.Type.ToolTip, short.center(),
                                                         table.viewport().mapToGlobal(short.center())))
    assert not QToolTip.isVisible() or QToolTip.text() != table.item(0, 3).text()
    QToolTip.hideText()
    qtbot.waitUntil(lambda: not QToolTip.isVisible(), timeout=2000)


def test_a_column_shown_from_the_menu_is_fitted_in(qtbot) -> None:  # type: ignore[no-untyped-def]
    table = _wide_table(qtbot)
    column_chooser.install(table, [3])
    header = table.horizontalHeader()
    table.resize(520, 200)
    QApplication.processEvents()
    assert header.length() <= table.viewport().width()
    column_chooser.menu(table).actions()[3].setChecked(True)
    assert not header.isSectionHidden(3) and header.length() <= table.viewport().width()
