"""Import evaluation logs from removable media into one submission.

The reviewer picks several files at once; they are listed in one table with a status per file
(queued, reading, imported N samples, refused: the full message, skipped). Each header is previewed
(task, model, status) in the background, and submissions whose model matches a log's model id are
proposed (a file whose header cannot be read says so in its status before Import, in the refusal
colour; Import still tries it, so its final status is the service's own refusal); a file whose model
id does not match the chosen submission is asked about, file by file, before anything is imported.
The import runs through ctx.jobs on a worker thread with its own database connection, one file after
the other, with a progress bar (bytes, time left) and a Cancel that stops the batch: the file being
read is rolled back and later files are not started. The service's messages name the file and the
problem. The table keeps one line per file, so several files
are in sight at the default size: a long name is elided in the middle (its distinguishing end stays),
a long status at the right, and the whole text is in every cell's tooltip and, for the selected files,
in the details pane under the table.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from app.model.errors import Cancelled, FrontierError
from app.model.results import EvalRun, ImportOutcome
from app.model.submissions import Submission
from app.services import parse_process, results, submissions
from ui.banner import ClassificationBanner
from ui.context import UiContext
from ui.jobs import time_left
from ui.widgets.transcript_view import clean_text, plain_tooltip
from ui.window_size import resize_to_screen

FILE_FILTER = "Evaluation logs (*.eval *.json *.jsonl *.csv);;All files (*)"
STATUS_LABELS = {"imported": "Imported", "duplicate": "Already imported", "failed": "Refused",
                 "cancelled": "Cancelled", "skipped": "Skipped"}
STATUS_COLOURS = {"imported": "#1a7f37", "duplicate": "#57606a", "failed": "#cf222e", "cancelled": "#9a6700",
                  "skipped": "#9a6700", "reading": "#0b3d91", "unreadable": "#cf222e"}
# Before Import, a file whose header could not be read: it stays in the batch (the import service
# gives the final word and its whole message) but is marked now, so nobody expects it to import.
UNREADABLE_STATUS = "cannot be read: will be refused"
COLUMNS = ("File", "Contents", "Status")
FILE, CONTENTS, STATUS = range(3)
FILE_COLUMN_MAX = 360  # px: wider than any usual log name; a longer one is in the tooltip and details
CONTENTS_COLUMN = 220  # px, at most: the status column has the rest
PATH_ROLE = Qt.ItemDataRole.UserRole


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:,.1f} GB"


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0  # the import itself names the problem


@dataclass(frozen=True)
class Preview:
    path: str
    runs: tuple[EvalRun, ...] = ()
    error: str = ""
    proposals: tuple[tuple[int, str, str], ...] = ()  # (submission id, display name, reason)


def status_text(o: ImportOutcome) -> str:
    """One file's result in the words of the status column, with the service's whole message."""
    detail = o.message.removeprefix(f"{o.path}: ").removeprefix(f"{os.path.basename(o.path)}: ")
    if o.status == "imported":
        runs = re.match(r"(\d+) run\(s\)", detail)  # an lm-eval results file may hold several tasks
        return f"imported {o.samples:,} samples" + (f" in {runs[1]} runs" if runs and runs[1] != "1" else "")
    if o.status == "duplicate":
        return f"skipped: {detail}"
    if o.status == "failed":
        return f"refused: {detail}"
    if o.status == "cancelled":
        return "skipped: not started (import cancelled)" if detail == "not started" else f"cancelled: {detail}"
    return f"{o.status}: {detail}"


class _MiddleElide(QStyledItemDelegate):
    """File names elided in the middle: two lm-eval results_<date>.json of one day differ at the end."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideMiddle


class _Bridge(QObject):
    """Carries progress from the worker thread to the dialog (queued across threads)."""

    progress = Signal(int, int, str)
    file_started = Signal(str)  # path
    file_done = Signal(object)  # ImportOutcome


class ImportDialog(QDialog):
    """Several files -> one submission; emits `imported(outcomes)` when a batch has finished."""

    imported = Signal(list)
    progress_changed = Signal(int, int, str)  # re-emitted on the GUI thread (tests hook Cancel here)

    def __init__(self, ctx: UiContext, submission_id: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Import evaluation logs")
        self.setMinimumSize(760, 640)
        resize_to_screen(self, 900, 700)  # room for the status column; capped to the screen
        self._paths: list[str] = []
        self._previews: dict[str, Preview] = {}
        self._cancel = threading.Event()
        self._running = False
        # (time, bytes) of the first figure past 0: the estimate's base. Before it the first file was
        # only hashed (the SHA-256 pass, seconds from slow media) and no byte figure moved; counted
        # in, that pass made the first estimates several times too long ("about 2 min" for 6 s).
        self._moving: tuple[float, int] | None = None
        self.clock = time.monotonic  # replaceable, so tests can check the time-left estimate
        self.outcomes: list[ImportOutcome] = []
        # Inspect .eval parser processes start now, while the reviewer picks files: the import then does
        # not wait for them (parse_process.warm); they are stopped if the dialog closes unused.
        parse_process.warm()
        self.finished.connect(lambda _result: parse_process.stop_idle())
        self._bridge = _Bridge(self)
        self._bridge.progress.connect(self._on_progress)
        self._bridge.file_started.connect(self._file_started)
        self._bridge.file_done.connect(self._file_done)
        self._status: dict[str, tuple[str, str]] = {}  # path -> (kind, status text)
        self._skipped: dict[str, ImportOutcome] = {}  # files the reviewer chose not to import

        # -- files: one table, one row per file with its status --------------------------------
        files_box = QGroupBox("Files")
        self.files_table = QTableWidget(0, len(COLUMNS))
        self.files_table.setObjectName("importFiles")
        self.files_table.setAccessibleName("Files to import and their status")
        self.files_table.setHorizontalHeaderLabels(list(COLUMNS))
        self.files_table.verticalHeader().setVisible(False)
        self.files_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.files_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.files_table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        # One line per file: elided (the whole text in the tooltip and the details pane), not wrapped
        # into rows so tall that the table showed one and a half files at the default size.
        self.files_table.setWordWrap(False)
        self.files_table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.files_table.setItemDelegateForColumn(FILE, _MiddleElide(self.files_table))
        self.files_table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        vh = self.files_table.verticalHeader()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(self.files_table.fontMetrics().height() + 10)
        self.files_table.setMinimumHeight(self.files_table.horizontalHeader().sizeHint().height()
                                          + 4 * vh.defaultSectionSize() + 4)
        hh = self.files_table.horizontalHeader()
        hh.setSectionResizeMode(FILE, QHeaderView.ResizeMode.Interactive)
        hh.setSectionResizeMode(CONTENTS, QHeaderView.ResizeMode.Interactive)
        hh.setSectionResizeMode(STATUS, QHeaderView.ResizeMode.Stretch)
        self.files_table.setColumnWidth(FILE, 190)
        self.files_table.setColumnWidth(CONTENTS, CONTENTS_COLUMN)
        self.files_table.itemSelectionChanged.connect(self._show_details)
        self.files_table.installEventFilter(self)  # its columns follow its width
        self.details = QPlainTextEdit()
        self.details.setObjectName("importDetails")
        self.details.setAccessibleName("Details of the selected file")
        self.details.setReadOnly(True)
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.details.setPlaceholderText("Select a file to read its whole status here.")
        self.details.setFixedHeight(self.details.fontMetrics().lineSpacing() * 3 + 14)  # three lines; it scrolls
        self.add_button = QPushButton("Add files…")
        self.add_button.clicked.connect(self._choose_files)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self._remove_selected)
        hint = QLabel("Add or drop Inspect .eval/.json, lm-evaluation-harness results .json (samples .jsonl "
                      "beside it are read too) or CSV files. The format is detected from the content.")
        hint.setWordWrap(True)
        hint.setObjectName("hint")
        fb = QHBoxLayout()  # the hint beside the buttons: the table keeps the height
        fb.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignTop)
        fb.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignTop)
        fb.addWidget(hint, 1)
        fl = QVBoxLayout(files_box)
        fl.addWidget(self.files_table, 1)
        fl.addWidget(self.details)
        fl.addLayout(fb)

        # -- destination ----------------------------------------------------------------------
        dest_box = QGroupBox("Destination")
        self.submission_combo = QComboBox()
        self.submission_combo.setAccessibleName("Submission")
        self.submission_combo.currentIndexChanged.connect(lambda _i: self._show_proposal())
        self.proposal_label = QLabel("")
        self.proposal_label.setTextFormat(Qt.TextFormat.PlainText)
        self.proposal_label.setWordWrap(True)
        self.use_proposal_button = QPushButton("Use proposed submission")
        self.use_proposal_button.setVisible(False)
        self.use_proposal_button.clicked.connect(self.accept_proposal)
        prop_row = QHBoxLayout()
        prop_row.addWidget(self.proposal_label, 1)
        prop_row.addWidget(self.use_proposal_button)
        self.media_edit = QLineEdit()
        self.media_edit.setPlaceholderText("e.g. USB 0042 received from developer, 2026-11-20")
        self.media_edit.setMaxLength(200)
        form = QFormLayout(dest_box)
        form.addRow("Submission:", self.submission_combo)
        form.addRow("", prop_row)
        form.addRow("Media label:", self.media_edit)

        # -- progress and results ---------------------------------------------------------------
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setFormat("%p%")
        self.progress_label = QLabel("")
        self.progress_label.setTextFormat(Qt.TextFormat.PlainText)
        self.counts_label = QLabel("")
        self.counts_label.setTextFormat(Qt.TextFormat.PlainText)
        prog_box = QWidget()  # no frame of its own: its height goes to the file table
        pl = QVBoxLayout(prog_box)
        pl.setContentsMargins(0, 0, 0, 0)
        pb = QHBoxLayout()
        pb.addWidget(self.progress_bar, 1)
        pb.addWidget(self.counts_label)
        pl.addLayout(pb)
        pl.addWidget(self.progress_label)

        # -- buttons ----------------------------------------------------------------------------
        self.import_button = QPushButton("Import")
        self.import_button.setDefault(True)
        self.import_button.clicked.connect(self.start_import)
        self.cancel_button = QPushButton("Cancel import")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_import)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)

        body = QVBoxLayout()
        body.setContentsMargins(10, 10, 10, 10)
        body.addWidget(dest_box)
        body.addWidget(files_box, 1)
        body.addWidget(prog_box)
        body.addLayout(buttons)
        # Its own window: the classification banner top and bottom, like every screen.
        marking = ctx.session.settings.system_high
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(ClassificationBanner(marking))
        layout.addLayout(body, 1)
        layout.addWidget(ClassificationBanner(marking))

        self.setAcceptDrops(True)  # files dragged from the media's file manager window
        self._load_submissions(submission_id)
        self._update_buttons()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.files_table and event.type() == QEvent.Type.Resize:
            self._fit_columns()
        return super().eventFilter(watched, event)

    def _fit_columns(self) -> None:
        """A file name has no place to wrap: its column widens to the longest (an lm-eval
        results_<date>.json needs ~300 px), up to a cap and to two fifths of the table; the contents
        column takes up to CONTENTS_COLUMN, the status column the rest: nothing scrolls sideways."""
        table = self.files_table
        room = table.width() - 2 * table.frameWidth() - (
            table.verticalScrollBar().sizeHint().width() if table.verticalScrollBar().isVisible() else 0)
        wanted = max(table.sizeHintForColumn(FILE), table.horizontalHeader().sectionSizeHint(FILE), 120)
        table.setColumnWidth(FILE, min(wanted, FILE_COLUMN_MAX, max(120, room * 2 // 5)))
        table.setColumnWidth(CONTENTS, min(CONTENTS_COLUMN, max(100, room * 3 // 10)))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if not self._running and event.mimeData().hasUrls() and all(
                u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths and not self._running:
            event.acceptProposedAction()
            self.add_files(paths)

    # -- setup ----------------------------------------------------------------------------------
    def _load_submissions(self, preselect: int | None) -> None:
        self.submission_combo.clear()
        subs: list[Submission] = submissions.page(self.ctx.session, 0, 1000, sort="release")
        for s in subs:
            self.submission_combo.addItem(f"{s.display_name} (#{s.id})", s.id)
        if preselect is not None:
            self.select_submission(preselect)
        else:
            self.submission_combo.setCurrentIndex(-1)
            self.submission_combo.setPlaceholderText("Choose a submission…")

    def select_submission(self, submission_id: int) -> bool:
        i = self.submission_combo.findData(submission_id)
        if i >= 0:
            self.submission_combo.setCurrentIndex(i)
        return i >= 0

    def submission_id(self) -> int | None:
        v = self.submission_combo.currentData()
        return int(v) if v is not None else None

    def paths(self) -> list[str]:
        return list(self._paths)

    # -- files ----------------------------------------------------------------------------------
    def _choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Choose evaluation logs", "", FILE_FILTER)
        if paths:
            self.add_files(paths)

    def add_files(self, paths: list[str]) -> None:
        """Add files (deduplicated) and preview them in the background."""
        new = [os.path.abspath(p) for p in paths if os.path.abspath(p) not in self._paths]
        if not new:
            return
        self._paths.extend(new)
        for p in new:
            self._status[p] = ("queued", "queued")
            row = self.files_table.rowCount()
            self.files_table.insertRow(row)
            for col, text in ((FILE, os.path.basename(p)), (CONTENTS, "reading header…"), (STATUS, "queued")):
                item = QTableWidgetItem(clean_text(text, 300))
                item.setData(PATH_ROLE, p)
                self.files_table.setItem(row, col, item)
            self._set_tip(row)
        self._fit_columns()
        self._update_buttons()
        session = self.ctx.session

        def work(_progress: object, cancel: object) -> list[Preview]:
            out = []
            for p in new:
                try:
                    runs = tuple(results.preview_file(session, p))
                except FrontierError as exc:
                    out.append(Preview(p, error=str(exc)))
                    continue
                props: dict[int, tuple[int, str, str]] = {}
                for r in runs:
                    for sub, why in results.propose_submission(session, r.model):
                        if sub.id is not None and sub.id not in props:
                            props[sub.id] = (sub.id, sub.display_name, why)
                out.append(Preview(p, runs, proposals=tuple(props.values())))
            return out

        self.ctx.jobs.run(work, self._previews_ready, self._preview_failed, label="Reading log headers",
                          parent=self, cancellable=False)

    @Slot(object)
    def _previews_ready(self, previews: list[Preview]) -> None:
        if not isValid(self.files_table):
            return  # the dialog was closed and deleted while headers were read
        self._previews.update({p.path: p for p in previews})
        for row in range(self.files_table.rowCount()):
            pv = self._previews.get(self.row_path(row))
            if pv is None:
                continue
            cell = self._cell(row, CONTENTS)
            if pv.error:
                problem = pv.error.removeprefix(f"{pv.path}: ")  # the row already names the file
                cell.setText(f"cannot be read: {clean_text(problem, 2000)}")
                cell.setForeground(QColor(STATUS_COLOURS["failed"]))
                if self._status.get(pv.path, ("", ""))[0] == "queued":  # not once its import has begun
                    self._set_status(pv.path, "unreadable", UNREADABLE_STATUS)
            else:
                cell.setText("; ".join(f"{clean_text(r.task, 80)} · {clean_text(r.model, 80)} · {r.status.value}"
                                       + (" (incomplete)" if r.incomplete else "") for r in pv.runs[:3])
                             + (f" (+{len(pv.runs) - 3} more)" if len(pv.runs) > 3 else ""))
            self._set_tip(row)
        self._show_details()
        self._show_proposal()

    def row_path(self, row: int) -> str:
        item = self.files_table.item(row, FILE)
        return str(item.data(PATH_ROLE)) if item is not None else ""

    def row_of(self, path: str) -> int:
        return next((r for r in range(self.files_table.rowCount()) if self.row_path(r) == path), -1)

    def row_texts(self, row: int) -> list[str]:
        """File, contents and status of one row, as shown."""
        return [self._cell(row, c).text() for c in range(len(COLUMNS))]

    def _cell(self, row: int, column: int) -> QTableWidgetItem:
        item = self.files_table.item(row, column)
        if item is None:  # every row is filled whole when the file is added
            item = QTableWidgetItem("")
            self.files_table.setItem(row, column, item)
        return item

    def status_of(self, path: str) -> str:
        return self._status.get(os.path.abspath(path), ("", ""))[1]

    def _set_tip(self, row: int) -> None:
        """The whole row in every cell's tooltip: path, contents and the full status message."""
        path = self.row_path(row)
        tip = plain_tooltip(self._details_text(path), 4000)
        for col in range(len(COLUMNS)):
            item = self.files_table.item(row, col)
            if item is not None:
                item.setToolTip(tip)

    def _details_text(self, path: str) -> str:
        pv = self._previews.get(path)
        if pv is None:
            contents = "header not read yet"
        else:
            contents = pv.error.removeprefix(f"{path}: ") or "; ".join(
                f"{r.task} · {r.model} · {r.status.value}" for r in pv.runs)
        return f"{path}\nContents: {contents}\nStatus: {self._status.get(path, ('', ''))[1]}"

    def _set_status(self, path: str, kind: str, text: str) -> None:
        self._status[path] = (kind, text)
        row = self.row_of(path)
        if row < 0:
            return
        cell = self._cell(row, STATUS)
        cell.setText(clean_text(text, 4000))
        cell.setForeground(QColor(STATUS_COLOURS.get(kind, "#1f2328")))
        for col in range(len(COLUMNS)):
            item = self.files_table.item(row, col)
            if item is not None:
                item.setBackground(QColor("#ffebe9") if kind == "failed" else QColor(0, 0, 0, 0))
        self._set_tip(row)
        self.files_table.resizeRowToContents(row)
        self._show_details()

    @Slot()
    def _show_details(self) -> None:
        rows = sorted({i.row() for i in self.files_table.selectedIndexes()})
        self.details.setPlainText("\n\n".join(clean_text(self._details_text(self.row_path(r)), 8000)
                                                for r in rows[:5]))

    def _preview_failed(self, exc: BaseException) -> None:
        if not isValid(self.files_table):
            return
        self.ctx.show_error(self, exc)

    def proposals(self) -> list[tuple[int, str, str]]:
        seen: dict[int, tuple[int, str, str]] = {}
        for p in self._paths:
            found = self._previews.get(p)
            if found is not None:
                for prop in found.proposals:
                    seen.setdefault(prop[0], prop)
        return list(seen.values())

    def mismatched(self, submission_id: int) -> list[tuple[str, str]]:
        """(file, model id) of the logs read so far whose model id does not point at this submission
        (results.model_mismatch: the check `frontier-review import --submission` makes too)."""
        out = []
        for path in self._paths:
            pv = self._previews.get(path)
            if pv is None or pv.error or not pv.runs:
                continue  # not read yet, or unreadable (the import reports it)
            models = results.model_mismatch(self.ctx.session, pv.runs, submission_id)
            if models is not None:
                out.append((path, models))
        return out

    def _show_proposal(self) -> None:
        props = self.proposals()
        if not props:
            models = ", ".join(sorted({r.model for pv in self._previews.values() for r in pv.runs}))
            # once one is chosen, say where the import goes rather than ask again for a choice
            then = (f"the import goes to {self.submission_combo.currentText()}, as chosen"
                    if self.submission_id() is not None else "choose one above")
            self.proposal_label.setText(f"No submission matches the model id {models}; {then}." if models else "")
            self.use_proposal_button.setVisible(False)
            return
        sid, name, why = props[0]
        others = f" ({len(props) - 1} other match(es))" if len(props) > 1 else ""
        self.proposal_label.setText(f"Proposed: {name} — {why}{others}")
        self.use_proposal_button.setVisible(sid != self.submission_id())

    def accept_proposal(self) -> None:
        props = self.proposals()
        if props and self.select_submission(props[0][0]):
            self.use_proposal_button.setVisible(False)

    def _remove_selected(self) -> None:
        for row in sorted({i.row() for i in self.files_table.selectedIndexes()}, reverse=True):
            p = self.row_path(row)
            if p in self._paths:
                self._paths.remove(p)
            self._previews.pop(p, None)
            self._status.pop(p, None)
            self.files_table.removeRow(row)
        self._show_proposal()
        self._update_buttons()

    # -- import ---------------------------------------------------------------------------------
    def _update_buttons(self) -> None:
        self.import_button.setEnabled(not self._running and bool(self._paths))
        self.cancel_button.setEnabled(self._running)
        self.add_button.setEnabled(not self._running)
        self.remove_button.setEnabled(not self._running)
        self.submission_combo.setEnabled(not self._running)
        self.close_button.setEnabled(not self._running)

    def start_import(self) -> None:
        sid = self.submission_id()
        if not self._paths:
            return
        if sid is None:
            self.progress_label.setText("Choose the submission these logs belong to.")
            self.submission_combo.setFocus()
            return
        # A file already imported (same SHA-256) is only reported as a duplicate: no question about its
        # model first. Only a file whose size matches an imported one is hashed here (a duplicate, nearly
        # always), so a new file costs one query.
        ask = []
        for path, model in self.mismatched(sid):
            try:
                if results.prior_imports(self.ctx.session, path):
                    continue
            except FrontierError:
                pass  # unreadable now: asked, and the import names the problem
            ask.append((path, model))
        self._ask_and_import(sid, ask)

    def _ask_and_import(self, sid: int, mismatched: list[tuple[str, str]]) -> None:
        skipped: dict[str, ImportOutcome] = {}
        target = self.submission_combo.currentText()
        for path, model in mismatched:  # asked file by file: a "no" skips only that file
            name = os.path.basename(path)
            if not self.ctx.confirm(self, "Model id differs", (
                    f"{name} names the model {clean_text(model, 120)}, which does not match {target}.\n\n"
                    "Import this file into this submission anyway?"), "Import anyway"):
                skipped[path] = ImportOutcome(path, None, "skipped", f"{name}: its model id {model} does not "
                                              f"match {target}; not imported (your choice).")
        paths = [p for p in self._paths if p not in skipped]
        for p in self._paths:
            if p in skipped:
                self._set_status(p, "skipped", status_text(skipped[p]))
            elif self._status.get(p, ("", ""))[0] == "unreadable":
                self._set_status(p, "unreadable", UNREADABLE_STATUS)  # still tried: the service says why
            else:
                self._set_status(p, "queued", "queued")
        self._skipped = skipped
        if not paths:
            self.progress_label.setText("Not imported: choose the submission these logs belong to.")
            return
        media = self.media_edit.text().strip()
        session = self.ctx.session
        bridge = self._bridge
        stop = self._cancel
        stop.clear()
        self._running = True
        self._moving = None
        self.outcomes = []
        self.progress_bar.setRange(0, 0)  # busy until the first figure arrives
        self.progress_label.setText(f"Importing {len(paths)} file(s)…")
        self.counts_label.setText("")
        self._update_buttons()
        sizes = [max(results.import_size(session, p), _size(p)) for p in paths]
        grand_total = sum(sizes)

        def work(progress: results.Progress, cancel: results.Cancel) -> list[ImportOutcome]:
            outcomes: list[ImportOutcome] = []
            before = 0

            def report(done: int, _total: int, text: str) -> None:
                progress(before + done, grand_total, text)
                bridge.progress.emit(int(before + done), int(grand_total), str(text))

            # One file per call, so each row says what is happening to it now.
            for index, path in enumerate(paths):
                if stop.is_set() or cancel():
                    outcomes += [ImportOutcome(p, None, "cancelled", "not started") for p in paths[index:]]
                    break
                bridge.file_started.emit(path)
                outcome = results.import_files(session, [path], sid, media, progress=report,
                                               cancel=lambda: stop.is_set() or cancel())[0]
                outcomes.append(outcome)
                bridge.file_done.emit(outcome)
                before += sizes[index]
                if any(p.lower().endswith(".eval") for p in paths[index + 1:]):
                    parse_process.warm()  # for an .eval still to come: they start while this row is updated
            return outcomes

        job = self.ctx.jobs.run(work, self._import_done, self._import_failed,
                                label=f"Importing {len(paths)} evaluation log(s)", parent=self)
        # This dialog shows the progress bar, counts, time left and Cancel itself; the runner's
        # generic progress window would duplicate them. (JobRunner has no switch for this yet.)
        timer = getattr(job, "slow_timer", None)
        if timer is not None:
            timer.stop()

    @Slot(str)
    def _file_started(self, path: str) -> None:
        if isValid(self.files_table):
            self._set_status(path, "reading", "reading")

    @Slot(object)
    def _file_done(self, outcome: ImportOutcome) -> None:
        if isValid(self.files_table):
            self._set_status(outcome.path, outcome.status, status_text(outcome))

    def cancel_import(self) -> None:
        """Stop the batch: the file being read is rolled back; later files are not started."""
        if self._running:
            self._cancel.set()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText("Cancelling… the file being read will not be stored.")

    def is_running(self) -> bool:
        return self._running

    @Slot(int, int, str)
    def _on_progress(self, done: int, total: int, text: str) -> None:
        if total > 0:
            # QProgressBar is int32: scale byte counts to per-mille.
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(min(1000, int(done * 1000 / total)))
            now = self.clock()
            if self._moving is None and done > 0:
                self._moving = (now, done)
            since, base = self._moving or (now, done)
            left = time_left(done - base, total - base, now - since)
            self.counts_label.setText(f"{human_bytes(done)} of {human_bytes(total)}" + (f" · {left}" if left else ""))
        if not self._cancel.is_set():
            self.progress_label.setText(clean_text(text, 300))
        self.progress_changed.emit(done, total, text)

    @Slot(object)
    def _import_done(self, outcomes: list[ImportOutcome]) -> None:
        if not isValid(self.files_table):
            return
        self._running = False
        done = {o.path: o for o in outcomes}
        done.update(self._skipped)
        self.outcomes = [done[p] for p in self._paths if p in done]
        for o in self.outcomes:
            self._set_status(o.path, o.status, status_text(o))
        failed = next((self.row_of(o.path) for o in self.outcomes if o.status == "failed"), -1)
        if failed >= 0:  # the first refusal's whole message in the details pane
            self.files_table.selectRow(failed)
        counts = {k: sum(1 for o in self.outcomes if o.status == k) for k in STATUS_LABELS}
        summary = ", ".join(f"{n} {STATUS_LABELS[k].lower()}" for k, n in counts.items() if n)
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(1000 if not counts["cancelled"] else self.progress_bar.value())
        if counts["cancelled"]:
            kept = counts["imported"]
            self.progress_label.setText(
                "Import cancelled: nothing was stored from the file being read"
                + (f"; {counts['cancelled'] - 1} file(s) not started" if counts["cancelled"] > 1 else "")
                + (f". {kept} file(s) finished before the cancel are kept." if kept else "."))
        else:
            self.progress_label.setText(f"Finished: {summary}." if summary else "Nothing to import.")
        self.counts_label.setText(f"{sum(o.samples for o in outcomes):,} samples stored")
        self._update_buttons()
        self.imported.emit(self.outcomes)

    def _import_failed(self, exc: BaseException) -> None:
        if not isValid(self.files_table):
            return
        self._running = False
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(0)
        if isinstance(exc, Cancelled):
            self.progress_label.setText(str(exc))
        else:
            self.progress_label.setText("The import stopped: files not marked imported were not stored.")
            self.ctx.show_error(self, exc)
        for path in self._paths:
            if self._status.get(path, ("", ""))[0] in ("queued", "reading"):
                self._set_status(path, "skipped", f"skipped: not imported ({clean_text(str(exc), 2000)})")
        self._update_buttons()

    def reject(self) -> None:
        if self._running:  # closing mid-import would orphan the worker; cancel first
            self.cancel_import()
            return
        super().reject()
