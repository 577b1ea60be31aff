"""Submission tab "Results": the evaluation runs imported for this submission.

One row per run (benchmark, task, headline metric with stderr, n, status, errored samples); runs
whose figures need care are flagged in colour and explained in the tooltip. From here the
reviewer imports more logs, maps an unknown task to a benchmark, and opens a run's samples.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.model.accounts import Permission
from app.model.errors import FrontierError
from app.model.results import EvalRun
from app.services import results
from ui import theme
from ui.banner import add_banners, window_marking
from ui.context import UiContext
from ui.dialogs.import_dialog import ImportDialog
from ui.models.runs_model import COL, RunsModel
from ui.screens.run_detail import RunDetail
from ui.widgets import column_chooser, column_fit
from ui.widgets.transcript_view import clean_text


class MapBenchmarkDialog(QDialog):
    """Pick (or type) the canonical benchmark an unknown task name belongs to."""

    def __init__(self, task: str, choices: list[str], current: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Map task to benchmark")
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.addItems(choices)
        self.combo.setCurrentText(current)
        self.combo.setMinimumWidth(280)
        task_label = QLabel(clean_text(task, 200))
        task_label.setTextFormat(Qt.TextFormat.PlainText)
        note = QLabel("Every run of this task, on every submission, is then shown under that benchmark. "
                      "Type a new name if it is not in the list. The change is audited.")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Task:", task_label)
        form.addRow("Benchmark:", self.combo)
        form.addRow(note)
        form.addRow(buttons)
        add_banners(self, window_marking(parent))

    def benchmark(self) -> str:
        return self.combo.currentText().strip()


class RunsPage(QWidget):
    open_run = Signal(int)

    def __init__(self, ctx: UiContext, submission_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.submission_id = submission_id
        self.import_dialog: ImportDialog | None = None

        self.import_button = QPushButton("Import logs…")
        self.import_button.setToolTip("Import Inspect, lm-evaluation-harness or CSV results from media")
        self.import_button.clicked.connect(self.open_import_dialog)
        self.import_button.setEnabled(ctx.can(Permission.IMPORT_RESULTS))
        self.open_button = QPushButton("Open run")
        self.open_button.clicked.connect(self._open_selected)
        self.map_button = QPushButton("Map to benchmark…")
        self.map_button.setToolTip("Map the selected run's task to a canonical benchmark")
        self.map_button.clicked.connect(lambda: self.map_selected())
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        bar = QHBoxLayout()
        bar.addWidget(self.import_button)
        bar.addWidget(self.open_button)
        bar.addWidget(self.map_button)
        bar.addStretch(1)
        bar.addWidget(self.summary)

        self.model = RunsModel()
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(RunsModel.SORT_ROLE)
        self.table = QTableView()
        self.table.setObjectName("runsTable")
        self.table.setAccessibleName("Evaluation runs of this submission")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COL["Benchmark"], Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        # Harness and Imported are in the run's own page; the header's menu shows them here too
        column_chooser.install(self.table, (COL["Harness"], COL["Imported"]))
        column_fit.install(self.table, (COL["File"], COL["Task"], COL["Model"], COL["Benchmark"]))
        self.table.activated.connect(self._double_clicked)  # double-click or Enter
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())

        self.empty = QLabel("No evaluation results for this submission yet.\n"
                            "Use “Import logs…” to read Inspect, lm-evaluation-harness or CSV results from media.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet(theme.EMPTY_STATE)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty, 1)
        self.refresh()

    # -- data -------------------------------------------------------------------------------------
    def refresh(self) -> None:
        runs = results.list_runs(self.ctx.session, self.submission_id)
        self.model.set_runs(runs)
        self.table.resizeColumnsToContents()
        for col, cap in ((COL["File"], 240), (COL["Model"], 220), (COL["Task"], 220), (COL["Status"], 170),
                         (COL["Errored"], 80), (COL["n"], 80)):
            self.table.setColumnWidth(col, min(self.table.columnWidth(col), cap))
        column_fit.refit(self.table)
        self.table.setVisible(bool(runs))
        self.empty.setVisible(not runs)
        errored = sum(1 for r in runs if r.errored_samples)
        incomplete = sum(1 for r in runs if r.incomplete or r.status.value != "success")
        unmapped = sum(1 for r in runs if not r.benchmark)
        parts = [f"{len(runs)} run(s)"]
        if errored:
            parts.append(f"{errored} with errored samples")
        if incomplete:
            parts.append(f"{incomplete} not complete")
        if unmapped:
            parts.append(f"{unmapped} unmapped")
        self.summary.setText(" · ".join(parts) if runs else "")
        self._update_buttons()

    def runs(self) -> list[EvalRun]:
        """Runs in the order shown (after sorting)."""
        out = []
        for r in range(self.proxy.rowCount()):
            run = self.proxy.data(self.proxy.index(r, 0), RunsModel.RUN_ROLE)
            if run is not None:
                out.append(run)
        return out

    def selected_run(self) -> EvalRun | None:
        idx = self.table.currentIndex()
        if not idx.isValid():
            return None
        run = self.proxy.data(self.proxy.index(idx.row(), 0), RunsModel.RUN_ROLE)
        return run if isinstance(run, EvalRun) else None

    def select_run(self, run_id: int) -> bool:
        for r in range(self.proxy.rowCount()):
            run = self.proxy.data(self.proxy.index(r, 0), RunsModel.RUN_ROLE)
            if run is not None and run.id == run_id:
                self.table.selectRow(r)
                return True
        return False

    def _update_buttons(self) -> None:
        run = self.selected_run()
        self.open_button.setEnabled(run is not None)
        self.map_button.setEnabled(run is not None and self.ctx.can(Permission.IMPORT_RESULTS))

    # -- actions ----------------------------------------------------------------------------------
    def open_import_dialog(self) -> ImportDialog:
        dlg = ImportDialog(self.ctx, self.submission_id, self)
        dlg.imported.connect(lambda _outcomes: self.refresh())
        self.import_dialog = dlg
        dlg.open()
        return dlg

    @Slot(QModelIndex)
    def _double_clicked(self, index: QModelIndex) -> None:
        run = self.proxy.data(self.proxy.index(index.row(), 0), RunsModel.RUN_ROLE)
        if run is not None and run.id is not None:
            self.open_run.emit(run.id)

    def _open_selected(self) -> None:
        run = self.selected_run()
        if run is not None and run.id is not None:
            self.open_run.emit(run.id)

    def map_selected(self, benchmark: str | None = None) -> bool:
        """Map the selected run's task; without `benchmark`, ask for it. True if mapped."""
        run = self.selected_run()
        if run is None:
            return False
        if benchmark is None:
            try:
                choices = results.benchmark_choices(self.ctx.session)
            except FrontierError as exc:
                self.ctx.show_error(self, exc)
                return False
            dlg = MapBenchmarkDialog(run.task, choices, run.benchmark, self)
            if dlg.exec() != QDialog.DialogCode.Accepted:
                return False
            benchmark = dlg.benchmark()
        try:
            results.map_task(self.ctx.session, run.task, benchmark)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return False
        self.refresh()
        if run.id is not None:
            self.select_run(run.id)
        self.ctx.events.status_message.emit(f"Task {clean_text(run.task, 80)} mapped to {clean_text(benchmark, 80)}")
        return True


class ResultsTab(QWidget):
    """Runs list, with a run's sample view swapped in when one is opened."""

    def __init__(self, ctx: UiContext, submission_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.submission_id = submission_id
        self.runs_page = RunsPage(ctx, submission_id)
        self.runs_page.open_run.connect(self.open_run)
        self.detail: RunDetail | None = None
        self.stack = QStackedWidget()
        self.stack.addWidget(self.runs_page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

    @Slot(int)
    def open_run(self, run_id: int) -> RunDetail | None:
        try:
            detail = RunDetail(self.ctx, run_id)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return None
        detail.back_requested.connect(self.show_runs)
        if self.detail is not None:
            self.stack.removeWidget(self.detail)
            self.detail.deleteLater()
        self.detail = detail
        self.stack.addWidget(detail)
        self.stack.setCurrentWidget(detail)
        return detail

    @Slot()
    def show_runs(self) -> None:
        self.stack.setCurrentWidget(self.runs_page)
        self.runs_page.refresh()

    def refresh(self) -> None:
        current = self.stack.currentWidget()
        if current is self.detail and self.detail is not None:
            self.detail.refresh()
        else:
            self.runs_page.refresh()


# -- screenshots (called by ui/screenshots.py) --------------------------------------------------------

def render_screenshots(ctx: UiContext, window: QWidget, out: object, snap: object) -> None:
    """Import demo results, then capture the Results tab, a run, a transcript, the import dialog and
    the Compare screen as docs/screenshots/results_*.png. `snap(widget, name, size)` saves one PNG."""
    import tempfile
    from pathlib import Path

    from app.services import submissions as subs_service
    from ui.screens.compare_screen import CompareScreen

    assert callable(snap)
    fixtures = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "inspect"
    tmp = tempfile.mkdtemp(prefix="frontier-results-shots-")
    by_name = {(s.developer, s.model_name, s.version): s for s in subs_service.page(ctx.session, 0, 1000)}
    aurora = by_name.get(("Northwind AI", "Aurora", "4.1-preview"))
    if aurora is None or aurora.id is None:
        return
    # The demo workstation already holds CSV results (app/services/demo.py); add two real Inspect logs.
    fixture_logs = [str(fixtures / "intercode_ok.eval"), str(fixtures / "intercode_interrupted.eval")]
    results.import_files(ctx.session, fixture_logs, aurora.id, media_label="USB 0042 (demo)")
    open_submission = getattr(window, "open_submission", None)
    if callable(open_submission):
        open_submission(aurora.id)
    detail = getattr(window, "pages", {}).get(f"submission:{aurora.id}")
    tab = detail.tab("Results") if detail is not None else ResultsTab(ctx, aurora.id)
    assert isinstance(tab, ResultsTab)
    shown: QWidget = window if detail is not None else tab
    snap(shown, "results_runs_tab", (1280, 800))

    run_ids = {r.original_name: r.id for r in tab.runs_page.runs()}
    ctf_run = next((rid for name, rid in run_ids.items() if name.endswith("_cybench.csv")), None)
    if ctf_run is not None:
        tab.open_run(ctf_run)
        snap(shown, "results_run_detail", (1280, 800))
    ok_run = run_ids.get("intercode_ok.eval")
    if ok_run is not None:
        run_detail = tab.open_run(ok_run)
        if run_detail is not None:
            run_detail.search_edit.setText("f1.txt")
            run_detail.apply_filters()
            snap(shown, "results_run_search", (1280, 800))
            dlg = run_detail.open_row(0)
            if dlg is not None:
                snap(dlg, "results_transcript", (980, 720))
                dlg.close()
    tab.show_runs()

    dialog = ImportDialog(ctx, aurora.id, shown)
    media = Path(tmp) / "USB0043"  # the files as they would sit on the media
    media.mkdir()
    for name in ("wmdp_cyber_ok.eval", "intercode_deflate.eval"):
        (media / name).write_bytes((fixtures / name).read_bytes())
    bad = media / "intercode_truncated.eval"
    bad.write_bytes((fixtures / "intercode_ok.eval").read_bytes()[:5000])
    dialog.media_edit.setText("USB 0043 (demo)")
    dialog.add_files([str(media / "wmdp_cyber_ok.eval"), str(bad), str(media / "intercode_deflate.eval")])
    dialog.start_import()
    # The details pane names the selected file by its whole path; a figure in docs/ names no machine's
    # own folder, so the staging folder is shown as the mount point the media would have.
    dialog.details.setPlainText(dialog.details.toPlainText().replace(str(media), "/media/reviewer/USB0043"))
    snap(dialog, "results_import_dialog", (900, 760))
    dialog.close()

    compare = CompareScreen(ctx)
    compare.refresh()
    compare.select_benchmark("InterCode-CTF")
    snap(compare, "results_compare_bars", (1280, 800))
    compare.select_benchmark("Cybench")
    compare.chart_combo.setCurrentIndex(1)
    snap(compare, "results_compare_trend", (1280, 800))
    compare.close()
