"""Preview of a printable document (checklist, findings register, vulnerability register), with
Print (registered printers only, checked against their labels) and Save as PDF (media label
checked). Both go through the services, which decide and audit; this dialog only draws."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.model.errors import FrontierError
from app.services import printables
from app.services.printables import Printable
from ui.banner import add_banners
from ui.context import UiContext
from ui.printing import PrintPath
from ui.window_size import resize_to_screen

MEDIA_LABELS = ["UNCLASSIFIED", "CUI", "CONFIDENTIAL", "SECRET", "SECRET//NOFORN", "TOP SECRET",
                "TOP SECRET//NOFORN"]


class SavePdfDialog(QDialog):
    """A file on the media plus the media's classification label."""

    def __init__(self, doc: Printable, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Save as PDF to media")
        form = QFormLayout(self)
        self.path = QLineEdit(f"{doc.reference}.pdf")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form.addRow("File on the media", row)
        self.media = QComboBox()
        self.media.setEditable(True)
        self.media.addItems(MEDIA_LABELS)
        self.media.setCurrentText(doc.marking.banner())
        form.addRow("Media classification label", self.media)
        note = QLabel(f"The document is marked {doc.marking.banner()}. Media labelled lower is refused.")
        note.setObjectName("hint")
        note.setTextFormat(Qt.TextFormat.PlainText)
        form.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        add_banners(self, doc.marking.banner())

    def _browse(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "PDF file on the removable media", self.path.text(), "PDF (*.pdf)")
        if name:
            self.path.setText(name)


def _choose_file(parent: QWidget, doc: Printable) -> tuple[Path, str] | None:
    dlg = SavePdfDialog(doc, parent)
    if dlg.exec() != QDialog.DialogCode.Accepted or not dlg.path.text().strip():
        return None
    return Path(dlg.path.text().strip()), dlg.media.currentText().strip()


class PrintablePreview(QDialog):
    def __init__(self, ctx: UiContext, doc: Printable, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.doc = doc
        self.setWindowTitle(f"{doc.title} — print preview")
        self.printing = PrintPath(ctx)
        self.choose_file: Callable[[QWidget, Printable], tuple[Path, str] | None] = _choose_file  # tests replace
        layout = QVBoxLayout(self)
        self.info = QLabel(f"{doc.title} · {doc.pages} page{'s' if doc.pages != 1 else ''} · marked "
                           f"{doc.marking.banner()} (the highest marking of what it prints)")
        self.info.setTextFormat(Qt.TextFormat.PlainText)
        self.info.setWordWrap(True)
        layout.addWidget(self.info)
        self.pdf = QPdfDocument(self)
        self._buffer = QBuffer(self)
        self._buffer.setData(QByteArray(doc.pdf))
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.pdf.load(self._buffer)
        self.view = QPdfView(self)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.view.setDocument(self.pdf)
        layout.addWidget(self.view, 1)
        row = QHBoxLayout()
        self.print_button = QPushButton("Print…")
        self.print_button.clicked.connect(self.print_document)
        self.save_button = QPushButton("Save as PDF…")
        self.save_button.clicked.connect(self.save)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        self.status = QLabel("")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        row.addWidget(self.print_button)
        row.addWidget(self.save_button)
        row.addWidget(self.status, 1)
        row.addWidget(close)
        layout.addLayout(row)
        add_banners(self, doc.marking.banner())
        resize_to_screen(self, 860, 900)  # capped: its buttons stay on an 800-px screen

    def print_document(self) -> int | None:
        doc, session = self.doc, self.ctx.session
        sent = self.printing.run(self, self.pdf, doc.what, doc.marking,
                                 lambda printer: printables.clear_print(session, doc, printer),
                                 lambda clearance, copies, pages: printables.record_print(session, doc, clearance,
                                                                                          copies, pages))
        if sent is not None:
            self.status.setText(f"Printed {sent} pages (recorded).")
        return sent

    def save(self) -> Path | None:
        choice = self.choose_file(self, self.doc)
        if choice is None:
            return None
        try:
            path = printables.write(self.ctx.session, self.doc, choice[0], choice[1])
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return None
        self.status.setText(f"Written to {path} (with MARKING.txt beside it).")
        return path


def open_preview(ctx: UiContext, parent: QWidget, build: Callable[[], Printable]) -> PrintablePreview | None:
    """Build the document (errors shown in the one place) and open its preview, non-modal."""
    try:
        doc = build()
    except FrontierError as exc:
        ctx.show_error(parent, exc)
        return None
    dlg = PrintablePreview(ctx, doc, parent)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.show()
    return dlg
