"""Artifacts of a submission: attach (encrypted evidence blob + SHA-256), view, save a copy.

Opening a file with the desktop's default application (QDesktopServices) is deliberately not
offered: on an air-gapped, classified workstation it would hand decrypted content to whatever
viewer is registered and leave a plaintext temp copy behind. Instead:
- text files (UTF-8, no NULs) are shown read-only inside the app, as plain text with control
  characters replaced; PDFs are shown in Qt's own PDF view from memory (no temp file);
- anything else can be written out with "Save a copy as…", which is audited (artifact.export),
  written atomically with mode 0600, and reminds the reviewer of the marking.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.accounts import Permission
from app.model.errors import FrontierError, ValidationError
from app.model.markings import UNCLASSIFIED, Marking
from app.model.submissions import ARTIFACT_KINDS, Artifact
from app.services import submissions
from ui.banner import ClassificationBanner, add_banners, window_marking
from ui.context import UiContext
from ui.errors import sanitize
from ui.widgets.marking_picker import MarkingPicker, ask_lower_reason
from ui.widgets.sortable_table import SortableTable

COLUMNS = ("File", "Kind", "Marking", "Size", "SHA-256", "Added by", "Added")
TEXT_VIEW_LIMIT = 5 << 20


def human_size(n: int) -> str:
    if n < 1024:
        return f"{n:,} B"
    value = float(n)
    for unit in ("KB", "MB"):
        value /= 1024
        if value < 1024:
            return f"{value:.1f} {unit}"
    return f"{value / 1024:.1f} GB"


def as_text(data: bytes) -> str | None:
    """The content as text if it is plausibly a text file, else None."""
    if b"\x00" in data[:65536]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


class AttachDialog(QDialog):
    def __init__(self, path: Path, ceiling: Marking | None, parent: QWidget | None = None,
                 initial: Marking = UNCLASSIFIED) -> None:
        super().__init__(parent)
        self.setWindowTitle("Attach artifact")
        self.path = path
        form = QFormLayout(self)
        name = QLabel(path.name)
        name.setTextFormat(Qt.TextFormat.PlainText)
        form.addRow("File", name)
        self.kind = QComboBox()
        self.kind.setObjectName("artifactKind")
        for k in ARTIFACT_KINDS:
            self.kind.addItem(k)
        form.addRow("Kind", self.kind)
        self.marking = MarkingPicker(ceiling, marking=initial)  # starts at the submission's marking
        form.addRow("Marking", self.marking)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Attach")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.setMinimumWidth(520)
        add_banners(self, ceiling.banner() if ceiling is not None else window_marking(parent))


class ArtifactViewer(QDialog):
    """Read-only view of a text or PDF artifact, inside banners for its own marking."""

    def __init__(self, art: Artifact, data: bytes, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{art.marking.portion()} {art.filename} (read-only)")
        self.resize(900, 700)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(ClassificationBanner(art.marking.banner()))
        info = QLabel(f"  {art.filename} · {human_size(art.size)} · SHA-256 {art.sha256} (verified)")
        info.setObjectName("hint")
        info.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(info)
        self.text: QPlainTextEdit | None = None
        self._buffer: QBuffer | None = None
        if art.filename.lower().endswith(".pdf") or data[:5] == b"%PDF-":
            from PySide6.QtPdf import QPdfDocument
            from PySide6.QtPdfWidgets import QPdfView

            self._bytes = QByteArray(data)
            self._buffer = QBuffer(self._bytes, self)
            self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
            self.pdf = QPdfDocument(self)
            self.pdf.load(self._buffer)
            view = QPdfView(self)
            view.setPageMode(QPdfView.PageMode.MultiPage)
            view.setDocument(self.pdf)
            layout.addWidget(view, 1)
        else:
            text = as_text(data[:TEXT_VIEW_LIMIT]) or ""
            self.text = QPlainTextEdit()
            self.text.setReadOnly(True)
            self.text.setFont(QFont("DejaVu Sans Mono"))
            self.text.setPlainText(sanitize(text, TEXT_VIEW_LIMIT))
            layout.addWidget(self.text, 1)
        layout.addWidget(ClassificationBanner(art.marking.banner()))


class ArtifactsTab(QWidget):
    def __init__(self, ctx: UiContext, submission_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.submission_id = submission_id
        self.items: list[Artifact] = []
        # Replaced in tests; the real ones open native file dialogs.
        self.choose_open: Callable[[], Path | None] = self._choose_open
        self.choose_save: Callable[[str], Path | None] = self._choose_save
        try:
            self.ceiling: Marking | None = Marking.parse(ctx.session.settings.system_high)
        except ValidationError:
            self.ceiling = None
        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.attach_button = QPushButton("Attach file…")
        self.attach_button.setObjectName("primary")
        self.attach_button.setVisible(ctx.can(Permission.EDIT_SUBMISSIONS))
        self.attach_button.clicked.connect(self.attach)
        self.view_button = QPushButton("View")
        self.view_button.clicked.connect(self.view_selected)
        self.save_button = QPushButton("Save a copy as…")
        self.save_button.setVisible(ctx.can(Permission.EXPORT))
        self.save_button.clicked.connect(self.save_selected)
        bar.addWidget(self.attach_button)
        bar.addStretch(1)
        bar.addWidget(self.view_button)
        bar.addWidget(self.save_button)
        layout.addLayout(bar)
        self.table = SortableTable(0, len(COLUMNS))
        self.table.setObjectName("artifactsTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.activated.connect(self.view_selected)  # double-click or Enter
        layout.addWidget(self.table, 1)
        self.message = QLabel("Files are stored encrypted in the workstation database; the SHA-256 is checked "
                              "every time one is read.")
        self.message.setObjectName("hint")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.message)
        self.refresh()

    def refresh(self) -> None:
        self.items = submissions.artifacts(self.ctx.session, self.submission_id)
        self.table.setRowCount(len(self.items))
        mono = QFont("DejaVu Sans Mono")
        for r, a in enumerate(self.items):
            values = (a.filename, a.kind, a.marking.banner(), human_size(a.size), a.sha256, a.added_by,
                      a.added_at[:16].replace("T", " "))
            for c, v in enumerate(values):
                item = QTableWidgetItem(v)
                if c == 4:
                    item.setFont(mono)
                item.setToolTip(v)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)

    def selected(self) -> Artifact | None:
        row = self.table.currentRow()
        return self.items[row] if 0 <= row < len(self.items) else None

    # -- attach ------------------------------------------------------------------------------------
    def _choose_open(self) -> Path | None:
        name, _ = QFileDialog.getOpenFileName(self, "Attach artifact")
        return Path(name) if name else None

    @Slot()
    def attach(self) -> None:
        path = self.choose_open()
        if path is None:
            return
        try:
            floor = submissions.get(self.ctx.session, self.submission_id).marking
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        dlg = AttachDialog(path, self.ceiling, self, floor)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        self.attach_file(path, dlg.kind.currentText(), dlg.marking.marking(), floor)

    def attach_file(self, path: Path, kind: str, marking: Marking, floor: Marking | None = None) -> None:
        """Store the file in a background job (hashing and encrypting up to the size limit). A marking
        below the submission's (`floor`) is an explicit act: the reason is asked first."""
        session, sid = self.ctx.session, self.submission_id
        if floor is None:
            floor = submissions.get(session, sid).marking
        why = ask_lower_reason(self, self.ctx.ask_text, floor, marking, f"The artifact {path.name}")
        if why is None:
            return

        def work(_progress: object, _cancel: object) -> Artifact:
            return submissions.attach_artifact(session, sid, path, kind, marking, why)

        self.ctx.jobs.run(work, self._attached, lambda exc: self.ctx.show_error(self, exc),
                          label=f"Attaching {path.name}", parent=self, cancellable=False)

    def _attached(self, art: Artifact) -> None:
        self.message.setText(f"Attached {art.filename} ({human_size(art.size)}), SHA-256 {art.sha256}.")
        self.refresh()

    # -- view / save -------------------------------------------------------------------------------
    @Slot()
    def view_selected(self) -> ArtifactViewer | None:
        art = self.selected()
        if art is None:
            self.message.setText("Select an artifact first.")
            return None
        try:
            art, data = submissions.read_artifact(self.ctx.session, art.id)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return None
        is_pdf = art.filename.lower().endswith(".pdf") or data[:5] == b"%PDF-"
        if not is_pdf and as_text(data[:TEXT_VIEW_LIMIT]) is None:
            self.message.setText(f"{art.filename} is not a text or PDF file, so it is not shown here. Use "
                                 "\"Save a copy as…\" to examine it with an approved tool.")
            return None
        viewer = ArtifactViewer(art, data, self)
        viewer.show()
        return viewer

    def _choose_save(self, filename: str) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(self, "Save a copy as", filename)
        return Path(name) if name else None

    @Slot()
    def save_selected(self) -> None:
        art = self.selected()
        if art is None:
            self.message.setText("Select an artifact first.")
            return
        label = self.ctx.ask_text(self, "Save a decrypted copy",
                                  f"The copy of {art.filename} leaves the encrypted store. It is marked "
                                  f"{art.marking.banner()}: it may only go to media labelled at that level or "
                                  "higher. The copy is recorded in the audit trail.\n\nLabel of the media:")
        if label is None:
            return
        dest = self.choose_save(art.filename)
        if dest is None:
            return
        try:
            submissions.save_artifact_copy(self.ctx.session, art.id, dest, label)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self.message.setText(f"Saved a copy of {art.filename} to {dest} (mode 0600).")
