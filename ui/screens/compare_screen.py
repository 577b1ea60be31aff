"""Compare one benchmark across submissions and versions.

The reviewer picks a benchmark (only those with imported runs are offered) and a metric; every
run is listed with its submission, value ± stderr, n and status, and charted (bars per run, or a
line per model over its versions). Below, two runs are compared sample by sample where the same
sample ids (and epochs) were scored in both, with the change counted in the metric's direction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from app.model import benchmarks
from app.model.comparison import (
    DeltaRow,
    RunLine,
    build_lines,
    default_pair,
    metric_names,
    pair_deltas,
    summarise,
    trend,
    version_key,
)
from app.model.errors import FrontierError, NotFound
from app.model.results import Comparison, Direction, RunStatus
from app.model.submissions import Submission
from app.services import results, submissions
from ui import theme
from ui.context import UiContext
from ui.models.columns_model import RIGHT, Column, ColumnsTableModel
from ui.models.runs_model import fmt_number
from ui.widgets import column_chooser, column_fit
from ui.widgets.chart import ChartData, ChartKind, ChartWidget, Series, direction_note
from ui.widgets.flow_layout import FlowLayout
from ui.widgets.transcript_view import clean_text

BETTER = QColor("#1a7f37")
WARN_BG = QColor("#fff8c5")
ERROR_BG = QColor("#ffebe9")
WORSE = QColor("#cf222e")


def bar_chart(benchmark: str, metric: str, direction: Direction, lines: list[RunLine]) -> ChartData:
    shown = [ln for ln in lines if ln.value is not None]
    return ChartData(
        title=f"{benchmark} — {metric}",
        categories=tuple(ln.short_label for ln in shown),
        series=(Series(metric, tuple(ln.value for ln in shown), tuple(ln.stderr for ln in shown)),),
        kind=ChartKind.BARS, x_label="Model version (run)", y_label=metric, direction=direction,
        notes=("whiskers: ± 1 stderr",), groups=tuple(ln.lineage for ln in shown),
    )


def trend_chart(benchmark: str, metric: str, direction: Direction, lines: list[RunLine]) -> ChartData:
    """A line per model over its versions (app.model.comparison.trend picks the run per version)."""
    versions, series = trend(lines)
    return ChartData(title=f"{benchmark} — {metric} by version", categories=versions,
                     series=tuple(Series(s.lineage, s.values, s.stderrs) for s in series),
                     kind=ChartKind.LINES, x_label="Version", y_label=metric, direction=direction)


def pair_statistics_text(ctx: UiContext, run_a: int, run_b: int) -> str:
    """Each run's 95% interval (n and method printed) and the paired comparison B - A."""
    from app.services import statistics

    try:
        lines = [f"Run A ({run_a}): {statistics.run_statistics(ctx.session, run_a).text}"]
        if run_a != run_b:
            lines.append(f"Run B ({run_b}): {statistics.run_statistics(ctx.session, run_b).text}")
            lines.append(statistics.compare_runs(ctx.session, run_a, run_b).text)
    except FrontierError as exc:
        return f"Statistics unavailable: {exc}"
    return "\n".join(lines)


def _value_text(ln: RunLine) -> str:
    if ln.value is None:
        return "—"
    return fmt_number(ln.value) + (f" ± {fmt_number(ln.stderr)}" if ln.stderr is not None else "")


class LinesModel(ColumnsTableModel):
    def __init__(self) -> None:
        super().__init__((
            # lines arrive in natural (model, version) order: that order is the Submission column's
            Column("Submission", lambda ln: clean_text(ln.who, 200), lambda ln: self._rows.index(ln)),
            Column("Version", lambda ln: clean_text(ln.version, 60), lambda ln: str(version_key(ln.version))),
            Column("Value ± stderr", _value_text, lambda ln: ln.value if ln.value is not None else -math.inf, RIGHT),
            Column("n", lambda ln: f"{ln.run.sample_count:,}", lambda ln: ln.run.sample_count, RIGHT),
            Column("Status", lambda ln: ln.run.status.value + (" (incomplete)" if ln.run.incomplete else ""),
                   background=lambda ln: WARN_BG if ln.run.incomplete or ln.run.status != RunStatus.SUCCESS
                   else None),
            Column("Errored", lambda ln: f"{ln.run.errored_samples:,}", lambda ln: ln.run.errored_samples, RIGHT,
                   background=lambda ln: ERROR_BG if ln.run.errored_samples else None),
            Column("Run", lambda ln: str(ln.run_id), lambda ln: ln.run_id, RIGHT),
            Column("Task", lambda ln: clean_text(ln.run.task, 200)),
            Column("Model", lambda ln: clean_text(ln.run.model, 200)),
        ))

    @property
    def COLUMNS(self) -> tuple[str, ...]:
        return self.headers

    @property
    def lines(self) -> list[RunLine]:
        return list(self._rows)

    def set_lines(self, lines: list[RunLine]) -> None:
        self.set_rows(lines)


class DeltasModel(ColumnsTableModel):
    """Per-sample deltas; sorts itself in Python by the columns' sort keys (a proxy would call
    data() ~100k times for 5,000 rows)."""

    COLUMNS = ("Sample", "Epoch", "Run A", "Run B", "Δ (B − A)")

    def __init__(self) -> None:
        super().__init__((
            Column(self.COLUMNS[0], lambda r: clean_text(r.sample_id, 200), lambda r: (r.sample_id, r.epoch)),
            Column(self.COLUMNS[1], lambda r: str(r.epoch), lambda r: (r.epoch, r.sample_id), RIGHT),
            Column(self.COLUMNS[2], lambda r: f"{r.a:.3g}", lambda r: r.a, RIGHT),
            Column(self.COLUMNS[3], lambda r: f"{r.b:.3g}", lambda r: r.b, RIGHT),
            Column(self.COLUMNS[4], lambda r: "0" if r.delta == 0 else f"{r.delta:+.3g}", lambda r: r.delta, RIGHT,
                   foreground=self._delta_colour),
        ))
        self.direction = Direction.HIGHER
        self._sort: tuple[int, Qt.SortOrder] = (0, Qt.SortOrder.AscendingOrder)

    @property
    def rows(self) -> list[DeltaRow]:
        return self._rows

    def _delta_colour(self, r: DeltaRow) -> QColor | None:
        if r.delta == 0:
            return None
        return BETTER if r.better(self.direction) else WORSE

    def set_rows(self, rows: Sequence[DeltaRow], direction: Direction = Direction.HIGHER) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.direction = direction
        self._sort_rows()
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        self._sort = (column, order)
        self._sort_rows()
        self.layoutChanged.emit()

    def _sort_rows(self) -> None:
        column, order = self._sort
        if 0 <= column < len(self.columns):
            key = self.columns[column].sort_key
            assert key is not None
            self._rows.sort(key=key, reverse=order == Qt.SortOrder.DescendingOrder)


def _table(model: QAbstractTableModel) -> tuple[QTableView, QSortFilterProxyModel]:
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(ColumnsTableModel.SORT_ROLE)
    view = QTableView()
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.horizontalHeader().setStretchLastSection(True)
    view.setWordWrap(False)
    return view, proxy


class CompareScreen(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.comparison: Comparison | None = None
        self.loading = False
        self._request = 0
        self.lines: list[RunLine] = []
        self._subs: dict[int, Submission] = {}

        title = QLabel("Compare a benchmark across submissions and versions")
        title.setObjectName("pageTitle")
        f = title.font()
        f.setPointSizeF(f.pointSizeF() * 1.25)
        f.setBold(True)
        title.setFont(f)
        self.benchmark_combo = QComboBox()
        self.benchmark_combo.setMinimumWidth(220)
        self.benchmark_combo.setAccessibleName("Benchmark")
        self.metric_combo = QComboBox()
        self.metric_combo.setMinimumWidth(160)
        self.metric_combo.setAccessibleName("Metric")
        self.chart_combo = QComboBox()
        self.chart_combo.addItems(["Bars: every run", "Trend over versions"])
        self.direction_label = QLabel()
        self.direction_label.setStyleSheet(theme.MUTED)
        bar = FlowLayout()  # wraps instead of widening the window
        bar.addWidget(QLabel("Benchmark:"))
        bar.addWidget(self.benchmark_combo)
        bar.addWidget(QLabel("Metric:"))
        bar.addWidget(self.metric_combo)
        bar.addWidget(QLabel("Chart:"))
        bar.addWidget(self.chart_combo)
        bar.addWidget(self.direction_label)
        bar.addStretch(1)

        self.lines_model = LinesModel()
        self.runs_table, self.runs_proxy = _table(self.lines_model)
        self.runs_table.setObjectName("compareRunsTable")
        self.runs_table.setAccessibleName("Runs of the benchmark")
        self.runs_table.setToolTip("Double-click a run to open its submission")
        # the submission names its version; run, task and model are a right-click on the header away
        column_chooser.install(self.runs_table, [self.lines_model.COLUMNS.index(c)
                                                 for c in ("Version", "Run", "Task", "Model")])
        column_fit.install(self.runs_table, (0,), floor=120)
        self.runs_table.activated.connect(self._open_submission)
        self.chart = ChartWidget()

        self.run_a = QComboBox()
        self.run_b = QComboBox()
        for combo in (self.run_a, self.run_b):
            combo.setMinimumWidth(260)
            combo.currentIndexChanged.connect(self._update_deltas)
        self.changed_only = QCheckBox("Changed samples only")
        self.changed_only.toggled.connect(self._update_deltas)
        self.delta_summary = QLabel()
        self.delta_summary.setTextFormat(Qt.TextFormat.PlainText)
        # intervals of A and B from their stored samples, and whether B - A is more than noise
        self.stats_label = QLabel()
        self.stats_label.setObjectName("pairStatistics")
        self.stats_label.setTextFormat(Qt.TextFormat.PlainText)
        self.stats_label.setWordWrap(True)
        self.stats_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.deltas_model = DeltasModel()
        self.deltas_table = QTableView()
        self.deltas_table.setModel(self.deltas_model)
        self.deltas_table.setSortingEnabled(True)  # calls DeltasModel.sort
        self.deltas_table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.deltas_table.setAlternatingRowColors(True)
        self.deltas_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.deltas_table.verticalHeader().setVisible(False)
        self.deltas_table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.deltas_proxy = self.deltas_model  # the view's model (tests read rows through it)
        self.deltas_table.setObjectName("deltasTable")
        self.deltas_table.setAccessibleName("Per-sample differences between run A and run B")
        dh = self.deltas_table.horizontalHeader()
        dh.setStretchLastSection(False)
        dh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, len(DeltasModel.COLUMNS)):
            dh.setSectionResizeMode(c, QHeaderView.ResizeMode.Fixed)
            self.deltas_table.setColumnWidth(c, 110)
        drow = FlowLayout()
        drow.addWidget(QLabel("Per-sample: run A"))
        drow.addWidget(self.run_a, 1)
        drow.addWidget(QLabel("vs run B"))
        drow.addWidget(self.run_b, 1)
        drow.addWidget(self.changed_only)
        deltas = QWidget()
        dl = QVBoxLayout(deltas)
        dl.setContentsMargins(0, 0, 0, 0)
        dl.addLayout(drow)
        dl.addWidget(self.delta_summary)
        dl.addWidget(self.stats_label)
        dl.addWidget(self.deltas_table, 1)

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.runs_table)
        top.addWidget(self.chart)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        top.setSizes([600, 430])  # at 1280 px the runs' names and values fit beside the chart
        main = QSplitter(Qt.Orientation.Vertical)
        main.addWidget(top)
        main.addWidget(deltas)
        main.setStretchFactor(0, 3)
        main.setStretchFactor(1, 2)
        self.empty = QLabel("No evaluation runs imported yet. Import logs from a submission's Results tab.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet(theme.EMPTY_STATE)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(bar)
        layout.addWidget(main, 1)
        layout.addWidget(self.empty, 1)
        self.main_area = main

        self.benchmark_combo.currentIndexChanged.connect(self._benchmark_changed)
        self.metric_combo.currentIndexChanged.connect(self._metric_changed)
        self.chart_combo.currentIndexChanged.connect(self._metric_changed)
        # No loading here: the main window calls refresh() each time the screen is shown.

    # -- data -------------------------------------------------------------------------------------
    def available_benchmarks(self) -> list[str]:
        """Benchmarks (canonical names, else raw task names) that have at least one run."""
        names: set[str] = set()
        self._subs = {}
        for s in submissions.page(self.ctx.session, 0, 10_000, sort="release"):
            if s.id is None:
                continue
            self._subs[s.id] = s
            for r in results.list_runs(self.ctx.session, s.id):
                names.add(r.benchmark or r.task)
        catalog = [b.name for b in benchmarks.CATALOG]
        return sorted(names, key=lambda n: (n not in catalog, n.lower()))

    def refresh(self) -> None:
        current = self.benchmark_combo.currentText()
        names = self.available_benchmarks()
        self.benchmark_combo.blockSignals(True)
        self.benchmark_combo.clear()
        self.benchmark_combo.addItems(names)
        if current in names:
            self.benchmark_combo.setCurrentText(current)
        self.benchmark_combo.blockSignals(False)
        self.main_area.setVisible(bool(names))
        self.empty.setVisible(not names)
        if names:
            self._benchmark_changed()  # runs may have been imported or mapped since

    def select_benchmark(self, name: str) -> bool:
        i = self.benchmark_combo.findText(name)
        if i < 0:
            return False
        if i == self.benchmark_combo.currentIndex():
            if self.comparison is None or self.comparison.benchmark != name:
                self._benchmark_changed()
        else:
            self.benchmark_combo.setCurrentIndex(i)
        return True

    @Slot()
    def _benchmark_changed(self) -> None:
        """Load the comparison on a worker thread: a benchmark with a run of a million samples
        takes seconds to gather, and the screen must stay responsive meanwhile."""
        name = self.benchmark_combo.currentText()
        if not name:
            return
        self._request += 1
        request = self._request
        self.loading = True
        self.direction_label.setText("Loading…")
        session = self.ctx.session

        def work(_progress: object, _cancel: object) -> Comparison | None:
            try:
                return results.compare(session, name)
            except NotFound:
                return None

        def failed(exc: BaseException) -> None:
            if request == self._request and isValid(self.chart):
                self.loading = False
                self.ctx.show_error(self, exc)
                self._show_comparison(None)

        self.ctx.jobs.run(work, lambda comp: self._comparison_ready(request, comp), failed,
                          label=f"Comparing {name}", parent=self, cancellable=False)

    def _comparison_ready(self, request: int, comp: Comparison | None) -> None:
        if request != self._request or not isValid(self.chart):
            return  # the reviewer has picked another benchmark since, or the screen is gone
        self.loading = False
        self._show_comparison(comp)

    def _show_comparison(self, comp: Comparison | None) -> None:
        self.comparison = comp
        for sid in {r.submission_id for r in (comp.runs if comp else ())}:
            if sid is not None and sid not in self._subs:
                try:
                    self._subs[sid] = submissions.get(self.ctx.session, sid)
                except FrontierError:
                    pass
        self.metric_combo.blockSignals(True)
        self.metric_combo.clear()
        if comp is not None:
            names = metric_names(comp.runs)
            if comp.metric in names:
                names.remove(comp.metric)
                names.insert(0, comp.metric)
            self.metric_combo.addItems(names)
        self.metric_combo.blockSignals(False)
        self._metric_changed()

    def current_metric(self) -> str:
        return self.metric_combo.currentText()

    def direction(self) -> Direction:
        comp = self.comparison
        if comp is None:
            return Direction.UNKNOWN
        if self.current_metric() == comp.metric:
            return comp.direction
        return benchmarks.metric_direction(self.current_metric(), benchmarks.by_name(comp.benchmark))

    @Slot()
    def _metric_changed(self) -> None:
        comp = self.comparison
        if comp is None:
            self.lines = []
            self.lines_model.set_lines([])
            self.chart.set_data(None)
            self._fill_run_combos()
            return
        metric = self.current_metric()
        direction = self.direction()
        self.lines = build_lines(comp, self._subs, metric)
        self.lines_model.set_lines(self.lines)
        self.runs_table.resizeColumnsToContents()
        column_fit.refit(self.runs_table)
        self.direction_label.setText(direction_note(direction))
        if self.chart_combo.currentIndex() == 1:
            self.chart.set_data(trend_chart(comp.benchmark, metric, direction, self.lines))
        else:
            self.chart.set_data(bar_chart(comp.benchmark, metric, direction, self.lines))
        self._fill_run_combos()

    @Slot(QModelIndex)
    def _open_submission(self, index: QModelIndex) -> None:
        row = self.runs_proxy.mapToSource(index).row()
        if 0 <= row < len(self.lines) and self.lines[row].run.submission_id is not None:
            self.ctx.events.open_submission.emit(self.lines[row].run.submission_id)

    # -- per-sample deltas ---------------------------------------------------------------------------
    def _fill_run_combos(self) -> None:
        for combo in (self.run_a, self.run_b):
            combo.blockSignals(True)
            combo.clear()
            for ln in self.lines:
                value = "—" if ln.value is None else fmt_number(ln.value)
                combo.addItem(f"{ln.label} — {clean_text(ln.run.task, 60)} — {value}", ln.run_id)
            combo.blockSignals(False)
        pair = default_pair(self.lines)
        if pair is not None:
            self.set_pair(*pair)
        else:
            self._update_deltas()

    def set_pair(self, run_a: int, run_b: int) -> None:
        for combo, rid in ((self.run_a, run_a), (self.run_b, run_b)):
            combo.blockSignals(True)  # one delta computation for the pair, not one per combo
            combo.setCurrentIndex(combo.findData(rid))
            combo.blockSignals(False)
        self._update_deltas()

    @Slot()
    def _update_deltas(self) -> None:
        comp = self.comparison
        a, b = self.run_a.currentData(), self.run_b.currentData()
        if comp is None or a is None or b is None:
            self.deltas_model.set_rows([], Direction.UNKNOWN)
            self.delta_summary.setText("Choose two runs to compare sample by sample.")
            self.stats_label.setText("")
            return
        self.stats_label.setText(pair_statistics_text(self.ctx, int(a), int(b)))
        rows = pair_deltas(comp, int(a), int(b))
        direction = self.direction()
        better, worse, same = summarise(rows, direction)
        if self.changed_only.isChecked():
            rows = [r for r in rows if r.delta != 0]
        self.deltas_model.set_rows(rows, direction)
        if a == b:
            self.delta_summary.setText("Run A and run B are the same run.")
        elif not better + worse + same:
            self.delta_summary.setText("These runs share no scored samples (sample ids and epochs differ).")
        else:
            word = "lower" if direction == Direction.LOWER else "higher"
            self.delta_summary.setText(
                f"{better + worse + same:,} samples scored in both runs: {better:,} better in B, {worse:,} worse, "
                f"{same:,} unchanged ({word} score is better).")
