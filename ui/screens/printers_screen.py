"""Printers (administrator): the register of printers the workstation may print on, each with its
accreditation label and location. Registering and removing are signed decisions (the service);
an entry that no longer matches what an administrator signed is shown as refused, with why. The
print queues the operating system offers but nobody registered are listed too, so an
administrator sees what still needs a decision."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.errors import FrontierError
from app.model.markings import Marking
from app.services import printers
from ui.context import UiContext
from ui.printing import PrinterOption, options, system_printers
from ui.widgets.marking_picker import MarkingPicker
from ui.widgets.sortable_table import SortableTable

COLUMNS = ("Printer", "Accreditation label", "Location", "Registered", "State")


class PrintersScreen(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.system: Callable[[], list[str]] = system_printers  # replaced in tests (no print system offscreen)
        self.rows: list[PrinterOption] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        title = QLabel("Printers")
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        hint = QLabel("Printing is egress: a document prints only on a registered printer whose accreditation "
                      "label is at least its marking. Every registration, removal, print and refusal is audited.")
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.table = SortableTable(0, len(COLUMNS))
        self.table.setObjectName("printersTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selected)
        layout.addWidget(self.table, 1)
        layout.addWidget(self._form())
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.status)
        self.refresh()

    def _form(self) -> QGroupBox:
        box = QGroupBox("Register a printer")
        form = QFormLayout(box)
        self.name = QComboBox()
        self.name.setObjectName("printerName")
        self.name.setEditable(True)
        self.name.setToolTip("The queue name as the operating system shows it")
        self.label = MarkingPicker(Marking.parse(self.ctx.session.settings.system_high))
        self.label.setObjectName("printerLabel")
        self.location = QLineEdit()
        self.location.setObjectName("printerLocation")
        self.location.setPlaceholderText("Building, room")
        form.addRow("Printer (queue name)", self.name)
        form.addRow("Accreditation label", self.label)
        form.addRow("Location", self.location)
        row = QHBoxLayout()
        self.register_button = QPushButton("Register")
        self.register_button.clicked.connect(self.register)
        self.replace_button = QPushButton("Replace entry")
        self.replace_button.setToolTip("Change the label or location of the registered printer of this name")
        self.replace_button.clicked.connect(lambda: self.register(replace=True))
        self.remove_button = QPushButton("Remove selected…")
        self.remove_button.clicked.connect(self.remove)
        for b in (self.register_button, self.replace_button, self.remove_button):
            row.addWidget(b)
        row.addStretch(1)
        form.addRow(row)
        return box

    def refresh(self) -> None:
        try:
            entries = printers.list_printers(self.ctx.session)
            queues = self.system()
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        rows = options(entries, queues)
        self.rows = rows
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(rows))
        for r, opt in enumerate(rows):
            e = opt.entry
            if e is None:
                state = "not registered: cannot be used"
            elif not e.usable:
                state = f"REFUSED: {e.problem}"
            else:
                state = "usable" if opt.on_system else "registered; the system does not offer this queue now"
            cells = (opt.name, e.label_text if e else "—", e.location if e else "—",
                     f"{e.registered_by}, {e.registered_at[:10]}" if e else "—", state)
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()
        current = self.name.currentText()
        self.name.clear()
        self.name.addItems([o.name for o in rows if o.entry is None])
        self.name.setEditText(current)

    def _selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return item.text() if item else None

    def _selected(self) -> None:
        name = self._selected_name()
        if name is None:
            return
        self.name.setEditText(name)
        entry = next((o.entry for o in self.rows if o.name == name), None)
        if entry is not None:
            if entry.label is not None:
                self.label.set_marking(entry.label)
            self.location.setText(entry.location)

    def register(self, replace: bool = False) -> None:
        name = self.name.currentText().strip()
        try:
            p = printers.register(self.ctx.session, name, self.label.marking(), self.location.text(), replace=replace)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self.status.setText(f"{p.name} registered, accredited for {p.label_text} ({p.location}).")
        self.refresh()

    def remove(self) -> None:
        name = self._selected_name()
        if name is None:
            return
        reason = self.ctx.ask_text(self, "Remove printer", f"Why is {name} taken off the register? (recorded)")
        if reason is None:
            return
        try:
            printers.remove(self.ctx.session, name, reason)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self.status.setText(f"{name} removed from the register: nothing can be printed on it any more.")
        self.refresh()
