"""The keyboard shortcut sheet (F1). SHORTCUTS is the one list: the sheet shows it and a test checks
that every shortcut the main window really binds is on it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

# (where, keys, what). Keys are written as QKeySequence.toString() spells them.
SHORTCUTS: list[tuple[str, str, str]] = [
    ("Anywhere", "F1", "This list of keyboard shortcuts"),
    ("Anywhere", "Ctrl+L", "Lock the workstation (your passphrase unlocks it; running jobs continue)"),
    ("Anywhere", "Ctrl+1 … Ctrl+9", "Go to the n-th entry of the navigation list"),
    ("Anywhere", "Ctrl+0", "Put the keyboard focus on the navigation list"),
    ("Anywhere", "Alt+S / Alt+H", "Open the Session / Help menu"),
    ("Editors and dialogs", "Esc", "Close; asks Save / Discard / Cancel when there are unsaved edits"),
    ("Editors and dialogs", "Tab / Shift+Tab", "Next / previous field (also out of multi-line text boxes)"),
    ("Tables", "Enter", "Open the selected row (as a double-click does)"),
    ("Tables", "Click a column header", "Sort by that column (again: reverse)"),
    ("Tables", "Type in the filter box", "Show only rows containing the text"),
    ("Assessment checklist", "1 … 6", "Set the status of the selected item (in the item list)"),
    ("Assessment checklist", "Alt+1 … Alt+6", "Set the status from anywhere in the checklist"),
    ("Assessment checklist", "Alt+Right / Alt+Left", "Next / previous item; the focus returns to the item list"),
    ("Assessment checklist", "Ctrl+PgDown / Ctrl+PgUp", "Next / previous item; the focus returns to the item list"),
    ("Assessment checklist", "PgDown / PgUp", "Next / previous item (in the item list)"),
    ("Transcript viewer", "Alt+Right / Alt+Left", "Next / previous sample"),
    ("Transcript viewer", "Ctrl+F", "Find in the transcript"),
    ("Transcript viewer", "F3 / Shift+F3", "Next / previous match"),
    ("Lock screen", "Enter", "Unlock with the passphrase typed"),
]


class ShortcutSheet(QDialog):
    """Non-modal, so it can stay open next to the work."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(720, 560)
        self.table = QTableWidget(len(SHORTCUTS), 3)
        self.table.setObjectName("shortcutTable")
        self.table.setAccessibleName("Keyboard shortcuts")
        self.table.setHorizontalHeaderLabels(["Where", "Keys", "What it does"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(True)
        for row, (where, keys, what) in enumerate(SHORTCUTS):
            for col, text in enumerate((where, keys, what)):
                item = QTableWidgetItem(text)
                if col == 1:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def keys(self) -> list[str]:
        return [keys for _where, keys, _what in SHORTCUTS]
