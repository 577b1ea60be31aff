"""The vulnerability editor's further affected products, driven through its real widgets: add a second
product, save, see every product in the register and in the reopened record; remove it again."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemDelegate, QLineEdit

from app.model.vulnerabilities import AffectedProduct, Vulnerability
from app.services import vulnerabilities as vs
from ui.models.vulns_model import COLUMNS
from ui.screens.vulnerabilities_screen import VulnerabilitiesScreen

CPE_41 = "cpe:2.3:a:northwind_ai:aurora:4.1-preview:*:*:*:*:*:*:*"
CPE_42 = "cpe:2.3:a:northwind_ai:aurora:4.2:*:*:*:*:*:*:*"
AFFECTED = [c.header for c in COLUMNS].index("Affected")


def type_into_cell(qtbot, table, row: int, col: int, text: str) -> None:  # type: ignore[no-untyped-def]
    """Edit a cell as a reviewer does: make it current, open its editor, type, press Enter."""
    table.setCurrentCell(row, col)
    table.editItem(table.item(row, col))
    editors = [w for w in table.viewport().findChildren(QLineEdit) if w.isVisible()]
    assert len(editors) == 1, "no cell editor opened"
    editor = editors[0]
    editor.setFocus()
    qtbot.keyClicks(editor, text)
    assert editor.text() == text
    table.commitData(editor)  # what Enter does once the editor has the keyboard focus
    table.closeEditor(editor, QAbstractItemDelegate.EndEditHint.SubmitModelCache)
    assert table.item(row, col).text() == text


def test_editor_adds_a_second_product_and_the_register_shows_both(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    screen = VulnerabilitiesScreen(ctx)
    qtbot.addWidget(screen)
    screen.show()
    editor = screen.new_vulnerability()
    qtbot.addWidget(editor)
    products = editor.more_products
    assert products.table.accessibleName() == "Further affected products"
    assert products.add_button.accessibleName() and products.remove_button.accessibleName()
    qtbot.keyClicks(editor.title, "Sandbox escape via tool call")
    qtbot.keyClicks(editor.vendor, "Northwind AI")
    qtbot.keyClicks(editor.product, "Aurora 4.1-preview")
    qtbot.keyClicks(editor.product_id, CPE_41)
    assert not products.table.rowCount()
    qtbot.mouseClick(products.add_button, Qt.MouseButton.LeftButton)
    assert products.table.rowCount() == 1 and editor.is_modified()
    type_into_cell(qtbot, products.table, 0, 0, "Northwind AI")
    type_into_cell(qtbot, products.table, 0, 1, "Aurora 4.2")
    type_into_cell(qtbot, products.table, 0, 2, "cpe:2.3:a:northwind")  # not a CPE: refused, dialog stays open
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert editor.result_vuln is None and vs.count(ctx.session) == 0
    assert "more_products[0].product_id" in editor.error.text() and "not a valid CPE" in editor.error.text()
    products.table.item(0, 2).setText("")
    type_into_cell(qtbot, products.table, 0, 2, CPE_42)
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    stored = editor.result_vuln
    assert stored is not None, editor.error.text()
    assert vs.get(ctx.session, stored.id).products == (
        AffectedProduct("Northwind AI", "Aurora 4.1-preview", CPE_41), AffectedProduct("Northwind AI", "Aurora 4.2",
                                                                                       CPE_42))
    # the register row names both
    index = screen.model.index(0, AFFECTED)
    assert screen.model.data(index) == "Northwind AI Aurora 4.1-preview; Northwind AI Aurora 4.2"

    # reopened from the register (the detail view): the second product is there; removing it saves
    screen.table.selectRow(0)
    screen.edit_selected()
    again = screen.findChildren(type(editor))[-1]
    qtbot.addWidget(again)
    assert again.more_products.state_value() == (("Northwind AI", "Aurora 4.2", CPE_42),)
    assert not again.is_modified()
    again.more_products.table.selectRow(0)
    qtbot.mouseClick(again.more_products.remove_button, Qt.MouseButton.LeftButton)
    assert again.is_modified()
    qtbot.mouseClick(again.save_button, Qt.MouseButton.LeftButton)
    assert vs.get(ctx.session, stored.id).more_products == ()
    assert screen.model.data(screen.model.index(0, AFFECTED)) == "Northwind AI Aurora 4.1-preview"


def test_a_second_product_that_repeats_the_first_is_named_in_the_error(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    v = vs.create(ctx.session, Vulnerability(title="t", vendor="Northwind AI", product="Aurora", product_id=CPE_41))
    screen = VulnerabilitiesScreen(ctx)
    qtbot.addWidget(screen)
    editor = screen.editor_for(v.id)
    qtbot.addWidget(editor)
    row = editor.more_products.add_row(AffectedProduct("Someone", "Else", CPE_41))
    assert row == 0
    assert not editor.save()
    assert "more_products[0]" in editor.error.text() and "already listed as the first" in editor.error.text()
