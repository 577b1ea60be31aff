"""The one print path of the UI: choose a registered printer, pass the service's print check, print
the PDF pages, record the print.

Qt's own print dialog lists every queue of the operating system (and "print to file"); this one
lists the printers of the workstation's register, matched by name with the queues Qt sees
(QPrinterInfo), with each one's accreditation label. A queue that is not registered is shown but
cannot be chosen ("an administrator must register it"); a printer accredited below the content is
shown as such. The service (app.services.printers.clear) decides in any case, and audits refusals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.errors import FrontierError
from app.model.markings import Marking
from app.services import printers as printers_service
from app.services.printers import PrintClearance, Printer
from ui.banner import add_banners
from ui.context import UiContext

COLUMNS = ("Printer", "Accreditation label", "Location", "For this document")


@dataclass(frozen=True)
class PrintChoice:
    printer: str
    copies: int
    first: int  # 1-based, inclusive
    last: int


@dataclass(frozen=True)
class PrinterOption:
    """One line of the printer list: a register entry, a system queue, or both."""

    name: str
    entry: Printer | None
    on_system: bool

    def verdict(self, content: Marking) -> str | None:
        """Why this printer cannot take the document (None: it can)."""
        if self.entry is None:
            return "not registered: an administrator must register it"
        if not self.entry.usable:
            return f"refused: {self.entry.problem}"
        if not self.entry.allows(content):
            return f"accredited below {content.banner()}"
        if not self.on_system:
            return "registered, but the operating system does not offer this queue now"
        return None


def options(registered: list[Printer], system: list[str]) -> list[PrinterOption]:
    by_name = {p.name: p for p in registered}
    names = sorted(set(by_name) | set(system), key=str.lower)
    return [PrinterOption(n, by_name.get(n), n in system) for n in names]


def system_printers() -> list[str]:
    return list(QPrinterInfo.availablePrinterNames())


def qt_printer(name: str) -> QPrinter:
    """A QPrinter on the named system queue (never Qt's default or print-to-file)."""
    info = QPrinterInfo.printerInfo(name)
    if info.isNull():
        raise FrontierError(f"The operating system does not offer the printer {name!r} now (check that it is "
                            "connected and its queue exists).")
    return QPrinter(info, QPrinter.PrinterMode.HighResolution)


class PrinterChoiceDialog(QDialog):
    """Registered printers with their labels; only those accredited for the document can be chosen."""

    def __init__(self, what: str, content: Marking, rows: list[PrinterOption], pages: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Print")
        self.content = content
        self.rows = rows
        layout = QVBoxLayout(self)
        head = QLabel(f"{what[:1].upper()}{what[1:]} is marked {content.banner()} ({pages} pages). Only a registered "
                      "printer accredited at least as high can print it.")
        head.setWordWrap(True)
        head.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(head)
        self.table = QTableWidget(len(rows), len(COLUMNS))
        self.table.setObjectName("printerChoices")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        first_ok = -1
        for r, opt in enumerate(rows):
            why = opt.verdict(content)
            cells = (opt.name, opt.entry.label_text if opt.entry else "—", opt.entry.location if opt.entry else "—",
                     why or "allowed")
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if why is not None:
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsSelectable & ~Qt.ItemFlag.ItemIsEnabled)
                    item.setToolTip(why)
                self.table.setItem(r, c, item)
            if why is None and first_ok < 0:
                first_ok = r
        self.table.resizeColumnsToContents()
        layout.addWidget(self.table, 1)
        if not rows:
            none = QLabel("No printer is registered or offered by the operating system: an administrator must "
                          "register one (Printers screen).")
            none.setWordWrap(True)
            layout.addWidget(none)
        form = QFormLayout()
        self.copies = QSpinBox()
        self.copies.setRange(1, 99)
        self.first = QSpinBox()
        self.first.setRange(1, max(1, pages))
        self.last = QSpinBox()
        self.last.setRange(1, max(1, pages))
        self.last.setValue(max(1, pages))
        span = QHBoxLayout()
        span.addWidget(self.first)
        span.addWidget(QLabel("to"))
        span.addWidget(self.last)
        form.addRow("Copies", self.copies)
        form.addRow("Pages", span)
        layout.addLayout(form)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Print")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.table.itemSelectionChanged.connect(self._update)
        if first_ok >= 0:
            self.table.selectRow(first_ok)
        self._update()
        add_banners(self, content.banner())
        self.resize(720, 380)

    def selected(self) -> PrinterOption | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()] if rows else None

    def _update(self) -> None:
        opt = self.selected()
        ok = opt is not None and opt.verdict(self.content) is None
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def choice(self) -> PrintChoice | None:
        opt = self.selected()
        if opt is None or opt.verdict(self.content) is not None:
            return None
        first, last = sorted((self.first.value(), self.last.value()))
        return PrintChoice(opt.name, self.copies.value(), first, last)


def _choose(parent: QWidget, what: str, content: Marking, rows: list[PrinterOption], pages: int,
            ) -> PrintChoice | None:
    dlg = PrinterChoiceDialog(what, content, rows, pages, parent)
    return dlg.choice() if dlg.exec() == QDialog.DialogCode.Accepted else None


def render(doc: QPdfDocument, printer: QPrinter, first: int, last: int) -> int:
    """Render pages first..last at the printer's resolution; returns the number of pages sent."""
    first, last = max(1, first), min(doc.pageCount(), last)
    painter = QPainter()
    if not painter.begin(printer):
        raise FrontierError("The printer could not be started (check that it is connected and ready).")
    sent = 0
    try:
        for n in range(first - 1, last):
            if sent:
                printer.newPage()
            target = painter.viewport()
            size = doc.pagePointSize(n)
            scale = min(target.width() / size.width(), target.height() / size.height())
            image: QImage = doc.render(n, QSize(int(size.width() * scale), int(size.height() * scale)))
            painter.drawImage(0, 0, image)
            sent += 1
    finally:
        painter.end()
    return sent


Clear = Callable[[str], PrintClearance]  # printer name -> clearance (raises when refused)
Record = Callable[[PrintClearance, int, str], None]  # clearance, copies, pages


class PrintPath:
    """Choose, check, print, record. Tests replace `choose`, `system` and `make_printer` (offscreen
    there is no print system: a QPrinter writing a PDF file stands in for the device)."""

    def __init__(self, ctx: UiContext) -> None:
        self.ctx = ctx
        self.choose: Callable[[QWidget, str, Marking, list[PrinterOption], int], PrintChoice | None] = _choose
        self.system: Callable[[], list[str]] = system_printers
        self.make_printer: Callable[[str], QPrinter] = qt_printer

    def run(self, parent: QWidget, doc: QPdfDocument, what: str, content: Marking, clear: Clear,
            record: Record) -> int | None:
        """Print `doc`; the number of pages sent, or None when cancelled or refused (error shown)."""
        try:
            rows = options(printers_service.list_printers(self.ctx.session), self.system())
            choice = self.choose(parent, what, content, rows, doc.pageCount())
            if choice is None:
                return None
            clearance = clear(choice.printer)  # the service decides (and audits a refusal)
            printer = self.make_printer(choice.printer)
            printer.setCopyCount(choice.copies)
            sent = render(doc, printer, choice.first, choice.last)
            record(clearance, choice.copies, f"{choice.first}-{choice.last} ({sent} pages)")
        except FrontierError as exc:
            self.ctx.show_error(parent, exc)
            return None
        self.ctx.events.status_message.emit(
            f"Printed {sent} pages of {what} on {choice.printer} (recorded in the audit trail)")
        return sent
