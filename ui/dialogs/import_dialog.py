"""Import evaluation logs from removable media into one submission.

The reviewer picks several files at once; each is previewed (task, model, status) in the
background, and submissions whose model matches a log's model id are proposed for confirmation.
The import itself runs through ctx.jobs on a worker thread with its own database connection.
The dialog shows a progress bar with byte and sample counts and the time left, and a Cancel
that stops the batch: the file being read is rolled back (nothing of it is stored) and the
files not yet started are skipped. Every file ends with a line in the result list; failures
show the service's message, which names the file and the problem.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal, Slot
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
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from app.model.errors import Cancelled, FrontierError
from app.model.results import EvalRun, ImportOutcome
from app.model.submissions import Submission
from app.services import results, submissions
from ui.banner import ClassificationBanner
from ui.context import UiContext
from ui.jobs import time_left, worker_session
from ui.widgets.transcript_view import clean_text, plain_tooltip

FILE_FILTER = "Evaluation logs (*.eval *.json *.jsonl *.csv);;All files (*)"
STATUS_LABELS = {"imported": "Imported", "duplicate": "Already imported", "failed": "Failed",
                 "cancelled": "Cancelled"}
STATUS_COLOURS = {"imported": "#1a7f37", "duplicate": "#57606a", "failed": "#cf222e", "cancelled": "#9a6700"}


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:,.1f} GB"


@dataclass(frozen=True)
class Preview:
    path: str
    runs: tuple[EvalRun, ...] = ()
    error: str = ""
    proposals: tuple[tuple[int, str, str], ...] = ()  # (submission id, display name, reason)


class _Bridge(QObject):
    """Carries progress from the worker thread to the dialog (queued across threads)."""

    progress = Signal(int, int, str)


class ImportDialog(QDialog):
    """Several files -> one submission; emits `imported(outcomes)` when a batch has finished."""

    imported = Signal(list)
    progress_changed = Signal(int, int, str)  # re-emitted on the GUI thread (tests hook Cancel here)

    def __init__(self, ctx: UiContext, submission_id: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Import evaluation logs")
        self.setMinimumSize(760, 640)
        self._paths: list[str] = []
        self._previews: dict[str, Preview] = {}
        self._cancel = threading.Event()
        self._running = False
        self._started = 0.0
        self.clock = time.monotonic  # replaceable, so tests can check the time-left estimate
        self.outcomes: list[ImportOutcome] = []
        self._bridge = _Bridge(self)
        self._bridge.progress.connect(self._on_progress)

        # -- files ------------------------------------------------------------------------------
        files_box = QGroupBox("Files")
        self.file_list = QListWidget()
        self.file_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.file_list.setAccessibleName("Files to import")
        self.file_list.setMaximumHeight(120)
        self.file_list.setWordWrap(False)
        self.add_button = QPushButton("Add files…")
        self.add_button.clicked.connect(self._choose_files)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self._remove_selected)
        fb = QHBoxLayout()
        fb.addWidget(self.add_button)
        fb.addWidget(self.remove_button)
        fb.addStretch(1)
        hint = QLabel("Add or drop Inspect .eval/.json, lm-evaluation-harness results .json (samples .jsonl "
                      "beside it are read too) or CSV files. The format is detected from the content.")
        hint.setWordWrap(True)
        hint.setObjectName("hint")
        fl = QVBoxLayout(files_box)
        fl.addWidget(self.file_list, 1)
        fl.addLayout(fb)
        fl.addWidget(hint)

        # -- destination ----------------------------------------------------------------------
        dest_box = QGroupBox("Destination")
        self.submission_combo = QComboBox()
        self.submission_combo.setAccessibleName("Submission")
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
        self.results_table = QTableWidget(0, 4)
        self.results_table.setHorizontalHeaderLabels(["File", "Result", "Samples", "Details"])
        self.results_table.verticalHeader().setVisible(False)
        self.results_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.results_table.setWordWrap(True)  # full messages, wrapped, never cut off
        self.results_table.setMinimumHeight(130)
        hh = self.results_table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        prog_box = QGroupBox("Progress")
        pl = QVBoxLayout(prog_box)
        pl.addWidget(self.progress_bar)
        pr = QHBoxLayout()
        pr.addWidget(self.progress_label, 1)
        pr.addWidget(self.counts_label)
        pl.addLayout(pr)
        pl.addWidget(self.results_table, 1)

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
        body.addWidget(files_box)
        body.addWidget(dest_box)
        body.addWidget(prog_box, 1)
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
            item = QListWidgetItem(f"{os.path.basename(p)} — reading header…")
            item.setData(Qt.ItemDataRole.UserRole, p)
            item.setToolTip(plain_tooltip(p))
            self.file_list.addItem(item)
        self._update_buttons()
        session = self.ctx.session

        def work(_progress: object, cancel: object) -> list[Preview]:
            out = []
            with worker_session(session) as s:
                for p in new:
                    try:
                        runs = tuple(results.preview_file(s, p))
                    except FrontierError as exc:
                        out.append(Preview(p, error=str(exc)))
                        continue
                    props: dict[int, tuple[int, str, str]] = {}
                    for r in runs:
                        for sub, why in results.propose_submission(s, r.model):
                            if sub.id is not None and sub.id not in props:
                                props[sub.id] = (sub.id, sub.display_name, why)
                    out.append(Preview(p, runs, proposals=tuple(props.values())))
            return out

        self.ctx.jobs.run(work, self._previews_ready, self._preview_failed, label="Reading log headers",
                          parent=self, cancellable=False)

    @Slot(object)
    def _previews_ready(self, previews: list[Preview]) -> None:
        if not isValid(self.file_list):
            return  # the dialog was closed and deleted while headers were read
        self._previews.update({p.path: p for p in previews})
        for i in range(self.file_list.count()):
            item = self.file_list.item(i)
            pv = self._previews.get(item.data(Qt.ItemDataRole.UserRole))
            if pv is None:
                continue
            name = os.path.basename(pv.path)
            if pv.error:
                problem = pv.error.removeprefix(f"{pv.path}: ")  # the row already names the file
                item.setText(f"{name} — cannot be read: {clean_text(problem, 300)}")
                item.setToolTip(plain_tooltip(pv.error, 2000))
                item.setForeground(QColor("#cf222e"))
            else:
                desc = "; ".join(f"{clean_text(r.task, 80)} · {clean_text(r.model, 80)} · {r.status.value}"
                                 + (" (incomplete)" if r.incomplete else "") for r in pv.runs[:3])
                more = f" (+{len(pv.runs) - 3} more)" if len(pv.runs) > 3 else ""
                item.setText(f"{name} — {desc}{more}")
        self._show_proposal()

    def _preview_failed(self, exc: BaseException) -> None:
        if not isValid(self.file_list):
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
        """(file, model id) of the logs read so far whose model id does not point at this submission."""
        out = []
        for path in self._paths:
            pv = self._previews.get(path)
            if pv is None or pv.error or not pv.runs:
                continue  # not read yet, or unreadable (the import reports it)
            if submission_id not in {prop[0] for prop in pv.proposals}:
                out.append((path, ", ".join(sorted({r.model for r in pv.runs}))))
        return out

    def _show_proposal(self) -> None:
        props = self.proposals()
        if not props:
            models = {r.model for pv in self._previews.values() for r in pv.runs}
            self.proposal_label.setText(
                f"No submission matches the model id {', '.join(sorted(models))!s}; choose one above."
                if models else "")
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
        for item in self.file_list.selectedItems():
            p = item.data(Qt.ItemDataRole.UserRole)
            if p in self._paths:
                self._paths.remove(p)
            self._previews.pop(p, None)
            self.file_list.takeItem(self.file_list.row(item))
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
        mismatched = self.mismatched(sid)
        if mismatched:
            listing = "\n".join(f"  {os.path.basename(path)}: model {clean_text(model, 120)}"
                                for path, model in mismatched)
            if not self.ctx.confirm(self, "Model id differs", (
                    f"These logs name a model that does not match {self.submission_combo.currentText()}:\n{listing}\n\n"
                    "Import them into this submission anyway?"), "Import anyway"):
                self.progress_label.setText("Not imported: choose the submission these logs belong to.")
                return
        paths = list(self._paths)
        media = self.media_edit.text().strip()
        session = self.ctx.session
        bridge = self._bridge
        stop = self._cancel
        stop.clear()
        self._running = True
        self._started = self.clock()
        self.outcomes = []
        self.results_table.setRowCount(0)
        self.progress_bar.setRange(0, 0)  # busy until the first figure arrives
        self.progress_label.setText(f"Importing {len(paths)} file(s)…")
        self.counts_label.setText("")
        self._update_buttons()

        def work(progress: results.Progress, cancel: results.Cancel) -> list[ImportOutcome]:
            def report(done: int, total: int, text: str) -> None:
                progress(done, total, text)
                bridge.progress.emit(int(done), int(total), str(text))

            with worker_session(session) as s:
                return results.import_files(s, paths, sid, media, progress=report,
                                            cancel=lambda: stop.is_set() or cancel())

        job = self.ctx.jobs.run(work, self._import_done, self._import_failed,
                                label=f"Importing {len(paths)} evaluation log(s)", parent=self)
        # This dialog shows the progress bar, counts, time left and Cancel itself; the runner's
        # generic progress window would duplicate them. (JobRunner has no switch for this yet.)
        timer = getattr(job, "slow_timer", None)
        if timer is not None:
            timer.stop()

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
            left = time_left(done, total, self.clock() - self._started)
            self.counts_label.setText(f"{human_bytes(done)} of {human_bytes(total)}" + (f" · {left}" if left else ""))
        if not self._cancel.is_set():
            self.progress_label.setText(clean_text(text, 300))
        self.progress_changed.emit(done, total, text)

    @Slot(object)
    def _import_done(self, outcomes: list[ImportOutcome]) -> None:
        if not isValid(self.results_table):
            return
        self._running = False
        self.outcomes = list(outcomes)
        self.results_table.setRowCount(len(outcomes))
        for row, o in enumerate(outcomes):
            # The File column names the file; the details drop the repeated path prefix.
            detail = o.message.removeprefix(f"{o.path}: ").removeprefix(f"{os.path.basename(o.path)}: ")
            cells = [os.path.basename(o.path), STATUS_LABELS.get(o.status, o.status),
                     f"{o.samples:,}" if o.samples else "", clean_text(detail, 2000)]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col in (0, 3):
                    item.setToolTip(plain_tooltip(o.path if col == 0 else o.message, 2000))
                if col == 1:
                    item.setForeground(QColor(STATUS_COLOURS.get(o.status, "#1f2328")))
                if o.status == "failed":
                    item.setBackground(QColor("#ffebe9"))
                self.results_table.setItem(row, col, item)
        self.results_table.resizeRowsToContents()
        counts = {k: sum(1 for o in outcomes if o.status == k) for k in STATUS_LABELS}
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
        if any(o.status == "imported" for o in outcomes):
            self.ctx.events.submission_changed.emit(self.submission_id() or 0)
        self.imported.emit(self.outcomes)

    def _import_failed(self, exc: BaseException) -> None:
        if not isValid(self.results_table):
            return
        self._running = False
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(0)
        if isinstance(exc, Cancelled):
            self.progress_label.setText(str(exc))
        else:
            self.progress_label.setText("The import did not run; nothing was stored.")
            self.ctx.show_error(self, exc)
        self._update_buttons()

    def reject(self) -> None:
        if self._running:  # closing mid-import would orphan the worker; cancel first
            self.cancel_import()
            return
        super().reject()
