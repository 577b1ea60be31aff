"""One evaluation run: its header and metrics, then every sample in a windowed table.

Filters (score, epoch, errors) and full-text search (SQLite FTS5 over input, target and answer)
are applied by the results service in SQL; the table fetches only the rows it paints. Double-
clicking a sample (or pressing "Open transcript") shows its transcript as plain text.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from app.model.accounts import Permission
from app.model.conformance import Conformance
from app.model.errors import FrontierError
from app.model.findings import EvidenceRef
from app.model.results import EvalRun, SampleFilter, SampleRow
from app.model.stats import RunStatistics
from app.services import results
from app.services.session import Session
from ui import theme
from ui.context import UiContext
from ui.dialogs.cite_evidence import CiteDialog
from ui.models.runs_model import metric_text, problems, samples_text, status_text, value_text
from ui.models.samples_model import COLUMN_INDEX, SamplesModel
from ui.vuln_editor import VulnEditor, editor_for_sample
from ui.widgets import column_chooser, column_fit
from ui.widgets.row_numbers_header import RowNumbersHeader
from ui.widgets.transcript_view import TranscriptDialog, clean_text

# (label, min_score, max_score)
SCORE_FILTERS: tuple[tuple[str, float | None, float | None], ...] = (
    ("Any score", None, None),
    ("Correct (score = 1)", 1.0, None),
    ("Incorrect (score = 0)", None, 0.0),
    ("Partial (between 0 and 1)", 1e-9, 1.0 - 1e-9),
    ("Score ≥ 0.5", 0.5, None),
    ("Score < 0.5", None, 0.5 - 1e-9),
)
ERROR_FILTERS = ("All samples", "Errored only", "Without errors")
SEARCH_DELAY_MS = 300


class ServiceSamples:
    """SampleSource over the results service (reads on the GUI thread's own connection)."""

    def __init__(self, session: Session, run_id: int) -> None:
        self.session = session
        self.run_id = run_id

    def count(self, flt: SampleFilter) -> int:
        return results.count_samples(self.session, self.run_id, flt)

    def page(self, flt: SampleFilter, offset: int, limit: int, sort: str, descending: bool,
             after: SampleRow | None = None) -> list[SampleRow]:
        return results.page_samples(self.session, self.run_id, flt, offset, limit, sort, descending, after)


def _label(text: str = "", selectable: bool = False) -> QLabel:
    lbl = QLabel(text)
    lbl.setTextFormat(Qt.TextFormat.PlainText)  # log content is never markup
    lbl.setWordWrap(True)
    if selectable:
        lbl.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return lbl


class RunDetail(QWidget):
    back_requested = Signal()

    def __init__(self, ctx: UiContext, run_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.run_id = run_id
        self.run: EvalRun = results.get_run(ctx.session, run_id)
        self.dialogs: list[TranscriptDialog] = []
        self._auto_sorted = False
        self._request = 0
        self.filtering = False  # a count/first page is being read on a worker thread
        self.conformance_pending = False  # the statistics line is being computed on a worker thread

        # -- header -----------------------------------------------------------------------------
        self.back_button = QPushButton("← All runs")
        self.back_button.clicked.connect(self.back_requested.emit)
        self.title = _label()
        self.title.setObjectName("pageTitle")
        f = self.title.font()
        f.setPointSizeF(f.pointSizeF() * 1.25)
        f.setBold(True)
        self.title.setFont(f)
        top = QHBoxLayout()
        top.addWidget(self.back_button, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.title, 1)

        facts = QFrame()
        facts.setObjectName("runFacts")
        facts.setFrameShape(QFrame.Shape.StyledPanel)
        self.facts_grid = QGridLayout(facts)
        self.facts_grid.setHorizontalSpacing(18)
        self.fact_labels: dict[str, QLabel] = {}
        for i, name in enumerate(("Model", "Status", "Samples", "Errored", "Harness", "Created", "Metrics",
                                  "File", "Media", "Imported")):
            key = _label(name + ":")
            key.setStyleSheet(theme.MUTED)
            val = _label(selectable=True)
            self.fact_labels[name] = val
            r, c = divmod(i, 2)
            val.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            self.facts_grid.addWidget(key, r, c * 2, Qt.AlignmentFlag.AlignTop)
            self.facts_grid.addWidget(val, r, c * 2 + 1, Qt.AlignmentFlag.AlignTop)
        self.facts_grid.setColumnStretch(1, 1)
        self.facts_grid.setColumnStretch(3, 1)
        self.warning = _label()
        self.warning.setStyleSheet(theme.WARNING_BOX)
        self.notes = _label()  # importer remarks: information, not a warning
        self.notes.setStyleSheet(theme.MUTED_NOTE)
        # conformance to the benchmark definition and the interval from the stored samples
        self.conformance = _label(selectable=True)
        self.conformance.setObjectName("runConformance")

        # -- filters ----------------------------------------------------------------------------
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText(
            "Search inputs, targets and answers (all words must match; word* for prefix)")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setAccessibleName("Full-text search")
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_filters)
        self.search_edit.textChanged.connect(lambda _t: self._search_timer.start())
        self.search_edit.returnPressed.connect(self.apply_filters)
        self.score_combo = QComboBox()
        for label, _lo, _hi in SCORE_FILTERS:
            self.score_combo.addItem(label)
        self.epoch_combo = QComboBox()
        self.error_combo = QComboBox()
        self.error_combo.addItems(ERROR_FILTERS)
        for combo in (self.score_combo, self.epoch_combo, self.error_combo):
            combo.currentIndexChanged.connect(self.apply_filters)
        self.count_label = _label()
        self.count_label.setWordWrap(False)
        self.open_button = QPushButton("Open transcript")
        self.open_button.clicked.connect(self.open_current)
        filters = QHBoxLayout()
        filters.addWidget(self.search_edit, 3)
        filters.addWidget(self.score_combo, 1)
        filters.addWidget(self.epoch_combo)
        filters.addWidget(self.error_combo)

        # -- table ------------------------------------------------------------------------------
        self.model = SamplesModel(ServiceSamples(ctx.session, run_id), unfiltered_count=self.run.sample_count)
        self.model.on_fetch_error = lambda exc: self.ctx.show_error(self, exc)
        self.table = QTableView()
        self.table.setVerticalHeader(RowNumbersHeader(self.table))
        self.table.setObjectName("samplesTable")
        self.table.setAccessibleName("Samples of this run")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setSortingEnabled(False)  # header clicks go to the service (see _sort_clicked)
        self.table.setProperty("sortedByService", True)
        vh = self.table.verticalHeader()
        # Fixed row heights: Qt then never measures rows, which keeps a million-row table instant.
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        hh.setSortIndicatorShown(True)
        hh.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # log order until a header is clicked
        hh.setSectionsClickable(True)
        hh.sectionClicked.connect(self._sort_clicked)
        for col_key, width in (("sample_id", 140), ("epoch", 55), ("score", 60), ("scores", 110), ("error", 120),
                               ("answer", 210), ("target", 150), ("tokens", 70), ("time", 70), ("input", 240)):
            self.table.setColumnWidth(COLUMN_INDEX[col_key], width)
        # At 1280 px those widths overflow: the text columns give way (elided, whole on hover) so Time and
        # Input stay in sight without scrolling sideways; any column can be hidden from the header's menu.
        column_fit.install(self.table, [COLUMN_INDEX[k] for k in ("answer", "input", "error", "target", "scores")])
        column_fit.refit(self.table)
        column_chooser.install(self.table)
        # activated = double-click or Enter (platform rules), so the keyboard opens transcripts too
        self.table.activated.connect(self._double_clicked)
        self._painted = False  # the statistics line is read after the first paint (see eventFilter)
        self.table.viewport().installEventFilter(self)

        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label, 1)
        bottom.addWidget(self.open_button)
        self.cite_button = QPushButton("Cite as evidence…")
        self.cite_button.setToolTip("Add the selected sample to the evidence of one of the submission's findings")
        self.cite_button.setVisible(self.ctx.can(Permission.ASSESS))
        self.cite_button.clicked.connect(self.cite_current)
        bottom.addWidget(self.cite_button)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(facts)
        layout.addWidget(self.warning)
        layout.addWidget(self.conformance)
        layout.addWidget(self.notes)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self._show_run()

    # -- header ---------------------------------------------------------------------------------
    def _show_conformance(self) -> None:
        """Conformance and the mean's interval read every sample of the run (a million rows take
        seconds, mostly Python holding the GIL): they are read on a worker thread started once the
        table has painted, so the first paint neither waits for them nor competes with them."""
        self.conformance_pending = True
        self.conformance.setText("Checking conformance and computing statistics…")
        self.conformance.setStyleSheet(theme.MUTED_NOTE)
        if self._painted:
            self._read_conformance()
        # else: eventFilter starts it after the table's first paint

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self._painted and watched is self.table.viewport() and event.type() == QEvent.Type.Paint:
            self._painted = True
            QTimer.singleShot(0, self, self._read_conformance)
        return super().eventFilter(watched, event)

    def _read_conformance(self) -> None:
        from app.services import benchmarks, statistics

        if not self.conformance_pending:
            return
        session, run_id = self.ctx.session, self.run_id

        def work(_progress: object, _cancel: object) -> tuple[Conformance | None, RunStatistics]:
            return benchmarks.conformance(session, run_id), statistics.run_statistics(session, run_id)

        def done(result: tuple[Conformance | None, RunStatistics]) -> None:
            if isValid(self.conformance):
                self.conformance_pending = False
                self._conformance_done(*result)

        def failed(exc: BaseException) -> None:
            if isValid(self.conformance):
                self.conformance_pending = False
                self.conformance.setText(f"Conformance and statistics unavailable: {exc}")

        self.ctx.jobs.run(work, done, failed, label="Computing run statistics", parent=self, cancellable=False,
                          show_progress=False)

    def _conformance_done(self, c: Conformance | None, st: RunStatistics) -> None:
        lines = ["Mean per-sample score: " + st.text]
        if c is None:
            lines.insert(0, "Not checked for conformance: the task is not mapped to a defined benchmark.")
            colour = "#57606a"
        elif c.conforming:
            lines.insert(0, f"Conforms to {c.benchmark_id} v{c.benchmark_version} "
                         f"({len(c.checks)} checks: {', '.join(c.checks)}).")
            lines[1:1] = [f"Note: {d.text}" for d in c.deviations]
            colour = "#1a7f37"
        else:
            lines.insert(0, f"Does NOT conform to {c.benchmark_id} v{c.benchmark_version}: rules that require a "
                         "conforming run do not use it.")
            lines[1:1] = [f"• {d.text}" for d in c.deviations]
            colour = "#cf222e"
        self.conformance.setText("\n".join(clean_text(line, 600) for line in lines))
        self.conformance.setStyleSheet(theme.coloured_note(colour))

    def _show_run(self) -> None:
        run = self.run
        name = run.benchmark or "Unmapped benchmark"
        self.title.setText(f"{name} — {clean_text(run.task, 200)}"
                           + (f" (task version {clean_text(run.task_version, 40)})" if run.task_version else ""))
        metrics = "\n".join(f"{metric_text(m)}: {value_text(m)}" + (f" [{m.reducer}]" if m.reducer else "")
                            for m in run.metrics) or "none recorded"
        facts = {
            "Model": clean_text(run.model, 300),
            "Status": status_text(run),
            "Samples": samples_text(run) + (f" over {run.epochs} epochs" if run.epochs > 1 else "")
            + f" · {run.sample_count:,} stored",
            "Errored": f"{run.errored_samples:,}",
            "Harness": f"{run.harness.value} {clean_text(run.harness_version, 40)}".strip(),
            "Created": run.created[:19].replace("T", " ") or "—",
            "Metrics": metrics,
            "File": f"{clean_text(run.original_name, 300)}  ·  SHA-256 {run.file_sha256[:16]}…",
            "Media": clean_text(run.media_label, 200) or "—",
            "Imported": f"{run.imported_at[:16].replace('T', ' ')} by {run.imported_by}",
        }
        for k, v in facts.items():
            self.fact_labels[k].setText(v)
        if run.errored_samples:
            self.fact_labels["Errored"].setStyleSheet(theme.DANGER_STRONG)
        warn = problems(run, with_notes=False)
        self.warning.setText("\n".join(warn))
        self.warning.setVisible(bool(warn))
        self._show_conformance()
        notes = [clean_text(n, 500) for n in run.notes]
        self.notes.setText("Importer notes: " + "\n".join(notes) if notes else "")
        self.notes.setVisible(bool(notes))
        self.epoch_combo.blockSignals(True)
        self.epoch_combo.clear()
        self.epoch_combo.addItem("All epochs", None)
        for e in range(1, max(run.epochs, 1) + 1):
            self.epoch_combo.addItem(f"Epoch {e}", e)
        self.epoch_combo.setVisible(run.epochs > 1)
        self.epoch_combo.blockSignals(False)
        self._update_count()

    # -- filters --------------------------------------------------------------------------------
    def current_filter(self) -> SampleFilter:
        _label_text, lo, hi = SCORE_FILTERS[max(self.score_combo.currentIndex(), 0)]
        err = self.error_combo.currentIndex()
        epoch = self.epoch_combo.currentData()
        return SampleFilter(epoch=int(epoch) if epoch is not None else None, min_score=lo, max_score=hi,
                            errors_only=err == 1, no_errors=err == 2, search=self.search_edit.text().strip())

    @Slot()
    def apply_filters(self) -> None:
        """Count the matches and read the first page on a worker thread (a search for common
        words over a million samples takes most of a second), then show them."""
        self._search_timer.stop()
        flt = self.current_filter()
        if flt == self.model.filter and not self.filtering:
            return
        by_score = flt.min_score is not None or flt.max_score is not None
        sort, descending = self.model.sort_key
        auto = self._auto_sorted
        if by_score and sort == "order":
            # A score filter is answered from the (run, score, id) index; keeping log order would
            # make SQLite sort every match (seconds on a million-sample run). For "correct" /
            # "incorrect" the order is unchanged (equal scores stay in log order).
            sort, descending, auto = "score", False, True
        elif not by_score and auto:
            sort, descending, auto = "order", False, False
        self._request += 1
        request = self._request
        self.filtering = True
        self.count_label.setText("Searching…" if flt.search else "Filtering…")
        session, run_id, size = self.ctx.session, self.run_id, self.model.page_size
        unfiltered = self.run.sample_count if flt == SampleFilter() else self.model.cached_count(flt)

        def work(_progress: object, _cancel: object) -> tuple[int, list[SampleRow]]:
            n = unfiltered if unfiltered is not None else results.count_samples(session, run_id, flt)
            first = results.page_samples(session, run_id, flt, 0, size, sort, descending) if n else []
            return n, first

        def done(result: tuple[int, list[SampleRow]]) -> None:
            if request != self._request or not isValid(self.table):
                return  # superseded by a newer filter, or the page was closed meanwhile
            self.filtering = False
            count, first = result
            self._auto_sorted = auto
            self.model.apply(flt, count, first, sort, descending)
            hh = self.table.horizontalHeader()
            if sort == "order":
                hh.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
            elif auto:
                hh.setSortIndicator(COLUMN_INDEX["score"], Qt.SortOrder.AscendingOrder)
            self.table.scrollToTop()  # new results start at the top
            self._update_count()

        def failed(exc: BaseException) -> None:
            if request == self._request and isValid(self.table):
                self.filtering = False
                self._update_count()
                self.ctx.show_error(self, exc)

        job = self.ctx.jobs.run(work, done, failed, label="Searching samples", parent=self, cancellable=False)
        timer = getattr(job, "slow_timer", None)  # the count label says "Searching…"; no extra window
        if timer is not None:
            timer.stop()

    def _update_count(self) -> None:
        n = self.model.rowCount()
        total = self.run.sample_count
        self.count_label.setText(f"{n:,} of {total:,} samples" if self.model.filter != SampleFilter()
                                 else f"{total:,} samples")
        self.open_button.setEnabled(n > 0)

    @Slot(int)
    def _sort_clicked(self, column: int) -> None:
        hh = self.table.horizontalHeader()
        self.model.sort(column, hh.sortIndicatorOrder())
        self._auto_sorted = False  # the reviewer chose an order
        key, _desc = self.model.sort_key
        if key == "order":
            hh.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        if self.filtering:
            self.apply_filters()  # the pending filter is read again in the new order

    # -- transcript -----------------------------------------------------------------------------
    @Slot(QModelIndex)
    def _double_clicked(self, index: QModelIndex) -> None:
        self.open_row(index.row())

    def open_current(self) -> None:
        idx = self.table.currentIndex()
        self.open_row(idx.row() if idx.isValid() else 0)

    def _load_sample(self, row: int) -> tuple[SampleRow, dict | None, str] | None:
        """The sample at `row` of the table as it is sorted and filtered now (the transcript
        viewer's Previous / Next walk the same order the reviewer sees)."""
        sample = self.model.row_at(row)
        if sample is None:
            return None
        transcript = results.get_transcript(self.ctx.session, sample.id) if sample.has_transcript else None
        title = f"Transcript — {self.run.benchmark or self.run.task} — sample {clean_text(sample.sample_id, 120)}" \
            f" (epoch {sample.epoch})"
        return sample, transcript, title

    def _loader(self, row: int) -> tuple[SampleRow, dict | None, str] | None:
        try:
            return self._load_sample(row)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return None

    def open_row(self, row: int) -> TranscriptDialog | None:
        loaded = self._loader(row)
        if loaded is None:
            return None
        sample, transcript, title = loaded
        dlg = TranscriptDialog(sample, transcript, title, self, marking=self.ctx.session.settings.system_high,
                               loader=self._loader, position=row, count=self.model.rowCount())
        dlg.setWindowFlag(Qt.WindowType.Window, True)
        if self.ctx.can(Permission.ASSESS) and self.run.submission_id is not None:
            cite = dlg.buttons.addButton("Cite as evidence…", QDialogButtonBox.ButtonRole.ActionRole)
            cite.setObjectName("citeEvidence")
            cite.setToolTip("Add this sample to the evidence of one of the submission's findings")
            cite.clicked.connect(lambda _=False, d=dlg: self.cite_sample(d.row, d))
        if self.ctx.can(Permission.MANAGE_VULNS):
            record = dlg.buttons.addButton("Record vulnerability…", QDialogButtonBox.ButtonRole.ActionRole)
            record.setObjectName("recordVulnerability")
            # the sample shown when clicked (Previous / Next move on), not the one first opened
            record.clicked.connect(lambda _=False, d=dlg: self.record_vulnerability(d.row, d))
        dlg.destroyed.connect(lambda _o=None, d=dlg: self.dialogs.remove(d) if d in self.dialogs else None)
        self.dialogs.append(dlg)
        dlg.show()
        return dlg

    def cite_sample(self, sample: SampleRow | None, parent: QWidget | None = None) -> CiteDialog | None:
        """Cite as evidence: the sample goes into a finding chosen from a list (no ids typed)."""
        if sample is None or self.run.submission_id is None:
            return None
        try:
            ref = EvidenceRef("sample", f"{self.run.id}:{sample.sample_id}")
            dialog = CiteDialog(self.ctx, self.run.submission_id, ref, parent or self)
        except FrontierError as exc:
            self.ctx.show_error(parent or self, exc)
            return None
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.open()
        return dialog

    def cite_current(self) -> CiteDialog | None:
        """From the sample table: cite the selected sample."""
        idx = self.table.currentIndex()
        return self.cite_sample(self.model.row_at(idx.row()) if idx.isValid() else None, self)

    def record_vulnerability(self, sample: SampleRow, parent: QWidget) -> VulnEditor | None:
        """Open the vulnerability editor prefilled from this sample; the run and sample stay linked."""
        try:
            editor = editor_for_sample(self.ctx, self.run.submission_id, str(self.run.id), sample.sample_id,
                                       excerpt=(sample.answer or sample.input_text)[:2000], parent=parent)
        except FrontierError as exc:
            self.ctx.show_error(parent, exc)
            return None
        editor.setWindowModality(Qt.WindowModality.WindowModal)
        editor.open()
        return editor

    def refresh(self) -> None:
        try:
            self.run = results.get_run(self.ctx.session, self.run_id)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self.model.refresh(self.run.sample_count)
        self._show_run()
