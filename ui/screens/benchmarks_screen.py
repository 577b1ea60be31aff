"""Screen "Benchmarks": the benchmark definitions on this workstation (shipped public catalog and signed
documents imported from media), one definition in full, and its capability trend: every reviewed model
and version over time with the frontier line, and where a chosen submission stands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.accounts import Permission
from app.model.benchmark_defs import BenchmarkDefinition
from app.model.errors import FrontierError
from app.model.trend import Trend
from app.services import benchmarks
from app.services import trend as trend_service
from ui.banner import portion_text
from ui.context import UiContext
from ui.widgets import column_chooser, column_fit
from ui.widgets.chart import ChartData, ChartKind, ChartWidget, Series
from ui.widgets.screen_stack import fitting_height
from ui.widgets.sortable_table import SortableTable

D_COLUMNS = ["Id", "Version", "Name", "Capability area", "Marking", "Samples", "Min epochs", "Min n", "From"]
T_COLUMNS = ["Received", "Model", "Value", "95% CI", "n", "Conforms", "Frontier"]


def _table(columns: list[str], name: str) -> SortableTable:
    t = SortableTable(0, len(columns))
    t.setObjectName(name)
    t.setHorizontalHeaderLabels(columns)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.verticalHeader().setVisible(False)
    t.horizontalHeader().setStretchLastSection(True)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return t


def definition_text(d: BenchmarkDefinition, origin: str) -> str:
    p = d.protocol
    lines = [
        f"{d.display}   marking {d.marking}   capability area {d.capability_area}",
        d.description,
        "",
        "Tasks: " + ", ".join((*d.inspect_tasks, *d.lm_eval_tasks)) + (f"  (task version {d.task_version})"
                                                                      if d.task_version else ""),
        "Samples: " + (f"{d.sample_count} canonical" if d.sample_count else "not fixed")
        + (f", ids sha256 {d.sample_ids_sha256[:16]}…" if d.sample_ids_sha256 else "")
        + (f"; dataset {d.dataset_fingerprint}" if d.dataset_fingerprint else ""),
        "Metrics: " + ", ".join(f"{m.name} ({m.direction.value} is more capable, {m.scale})" for m in d.metrics),
        f"Protocol: at least {p.min_epochs} epoch(s) and {p.min_samples} sample(s); scorer "
        f"{p.scorer or 'not prescribed'}; at most {p.max_errored_samples} errored sample(s)"
        + (f"; token budget {p.token_budget:,} per sample" if p.token_budget else "")
        + (f"; time budget {p.time_budget_seconds:g} s per sample" if p.time_budget_seconds else ""),
    ]
    if p.tools:
        lines.append(f"Tools / scaffold: {p.tools}")
    if p.model_settings:
        lines.append("Model settings: " + "; ".join(f"{k}: {v}" for k, v in p.model_settings))
    lines.append(f"From: {origin}   document sha256 {d.document_sha256}")
    return "\n".join(lines)


def trend_chart(t: Trend) -> ChartData:
    """Every reviewed model over time (with its interval) and the frontier line (best so far)."""
    cats = tuple(f"{p.when.isoformat()} {p.label}" for p in t.points)
    values = tuple(p.value for p in t.points)
    errors = tuple((max(p.high - p.value, p.value - p.low) if p.low is not None and p.high is not None else None)
                   for p in t.points)
    return ChartData(f"{t.benchmark}: {t.metric} of every reviewed model over time", cats,
                     (Series("reviewed model (95% CI)", values, errors),
                      Series("frontier (best reviewed so far)", t.frontier_at())),
                     ChartKind.LINES, "received for review", t.metric, t.direction,
                     ("Each point: a submission's most capable complete run.",))


class BenchmarksScreen(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.choose_file: Callable[[str], str | None] = self._choose_file
        self.definitions: list[BenchmarkDefinition] = []
        self.trend: Trend | None = None
        note = QLabel("Benchmark definitions say what a benchmark is and how a conforming run executes it. New "
                      "definitions come from media as a signed document (FILE plus FILE.p7s from a trusted "
                      "authority); a higher version of an id supersedes the earlier one.")
        note.setWordWrap(True)
        self.table = _table(D_COLUMNS, "definitionsTable")
        # the capability area and protocol are in the detail below; the header's menu shows them here too
        column_chooser.install(self.table, [D_COLUMNS.index(c) for c in ("Capability area", "Samples", "Min epochs",
                                                                          "Min n", "From")])
        column_fit.install(self.table, [D_COLUMNS.index(c) for c in ("Name", "Id")])
        self.table.itemSelectionChanged.connect(self._selected)
        self.import_button = QPushButton("Import definitions…")
        self.import_button.setVisible(ctx.can(Permission.IMPORT_TRUSTED))
        self.import_button.clicked.connect(self.import_document)
        self.detail = QPlainTextEdit()
        self.detail.setObjectName("definitionDetail")
        self.detail.setReadOnly(True)
        self.chart = ChartWidget()
        self.chart.setMinimumHeight(260)
        self.points = _table(T_COLUMNS, "trendTable")
        self.points.itemSelectionChanged.connect(self._point_selected)
        self.position = QLabel("Select a reviewed model to see where it stands.")
        self.position.setObjectName("trendPosition")
        self.position.setTextFormat(Qt.TextFormat.PlainText)
        self.position.setWordWrap(True)
        self.result = QLabel()
        self.result.setObjectName("importResult")
        self.result.setTextFormat(Qt.TextFormat.PlainText)
        self.result.setWordWrap(True)

        head = QHBoxLayout()
        head.addWidget(QLabel("Benchmark definitions"), 1)
        head.addWidget(self.import_button)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addLayout(head)
        ll.addWidget(self.table, 2)
        ll.addWidget(self.detail, 1)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(QLabel("Capability trend"))
        rl.addWidget(self.chart, 2)
        rl.addWidget(self.points, 1)
        rl.addWidget(self.position)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([560, 700])
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(split, 1)
        layout.addWidget(self.result)
        self.refresh()

    def heightForWidth(self, width: int) -> int:  # the tables and chart shrink to fit, no page scroll
        return fitting_height(self, width)

    def refresh(self) -> None:
        try:
            self.definitions = benchmarks.definitions(self.ctx.session, all_versions=True)
            origins = {d.document_sha256: benchmarks.origin_of(self.ctx.session, d) for d in self.definitions}
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self.table.setRowCount(len(self.definitions))
        for r, d in enumerate(self.definitions):
            samples = str(d.sample_count) if d.sample_count else ("hash" if d.sample_ids_sha256 else "—")
            for c, text in enumerate([d.benchmark_id, str(d.version), d.name, d.capability_area,
                                      portion_text(d.marking), samples,
                                      str(d.protocol.min_epochs), str(d.protocol.min_samples),
                                      origins[d.document_sha256]]):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        column_fit.refit(self.table)
        if self.definitions and not self.table.selectedItems():
            self.table.selectRow(0)

    def select(self, ref: str) -> bool:
        """Select the latest version of a benchmark by id or name."""
        for r, d in reversed(list(enumerate(self.definitions))):
            if ref in (d.benchmark_id, d.name):
                self.table.selectRow(self.table.view_row(r))
                return True
        return False

    def _selected(self) -> None:
        rows = {self.table.source_row(i.row()) for i in self.table.selectedItems()}
        if not rows:
            return
        d = self.definitions[min(rows)]
        try:
            self.detail.setPlainText(definition_text(d, benchmarks.origin_of(self.ctx.session, d)))
            self.trend = trend_service.trend(self.ctx.session, d.benchmark_id)
        except FrontierError as exc:
            self.trend = None
            self.ctx.show_error(self, exc)
            return
        self._show_trend(self.trend)

    def _show_trend(self, t: Trend) -> None:
        self.chart.set_data(trend_chart(t) if t.points else None)
        frontier_ids = {p.run_id for p in t.frontier}
        self.points.setRowCount(len(t.points))
        for r, p in enumerate(t.points):
            ci = f"[{p.low:.3f}, {p.high:.3f}]" if p.low is not None and p.high is not None else "—"
            conforms = "—" if p.conforming is None else "yes" if p.conforming else "no"
            for c, text in enumerate([p.when.isoformat(), p.label, f"{p.value:.3f}", ci, str(p.n or "—"), conforms,
                                      "new frontier" if p.run_id in frontier_ids else ""]):
                self.points.setItem(r, c, QTableWidgetItem(text))
        self.points.resizeColumnsToContents()
        column_fit.titles_fit(self.points)  # sized before the style sheet's bold headers apply, when empty
        self.position.setText("Select a reviewed model to see where it stands." if t.points
                              else f"No complete run of {t.benchmark} has been imported yet.")

    def _point_selected(self) -> None:
        rows = {self.points.source_row(i.row()) for i in self.points.selectedItems()}
        if not rows or self.trend is None:
            return
        p = self.trend.points[min(rows)]
        pos = self.trend.position(p.submission_id)
        if pos is not None:
            self.position.setText("\n".join(pos.lines))

    def _choose_file(self, title: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, title, "", "Benchmark definitions (*.json)")
        return path or None

    def import_document(self) -> None:
        path = self.choose_file("Import signed benchmark definitions")
        if not path:
            return
        try:
            doc = benchmarks.import_document(self.ctx.session, Path(path))
        except FrontierError as exc:
            self.result.setText(f"Not imported: {exc}")
            self.ctx.show_error(self, exc)
            return
        self.result.setText(f"Imported {doc.document_id} v{doc.version} ({doc.marking}): "
                            + ", ".join(f"{d.benchmark_id} v{d.version}" for d in doc.definitions))
        self.refresh()
